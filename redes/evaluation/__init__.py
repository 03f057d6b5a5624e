"""Evaluation, from the Trainer's metric to RunReport: image metrics, the evaluation record and blessing rule of
ImageEvaluator, ExampleValidator's anomalies, the comparison figure and the no-reference checks of published
frames."""
