"""The names of the model choices, defined once and without Keras: the flags (pipeline.flags) offer them, the
generators and losses (models.generators, models.losses) check them."""

GENERATORS = ("residual", "srgan")             # models.generators.build_generator
NORM_RANGES = ("standardize", "0,1", "-1,1")   # how a generator scales its input
PIXEL_LOSSES = ("l1", "mse")                   # models.losses.pixel_loss
