"""Super-resolution models, their input pipeline, metrics, export and the Trainer's run_fn."""
