"""The optimizer family. Importing this package registers every optimizer in the registry."""

from optimlab.optimizers.sgd import NAG, SGD, Momentum
from optimlab.optimizers.adagrad import Adadelta, Adagrad, RMSprop
from optimlab.optimizers.adam import Adam, Adamax, AdamW, NAdam

__all__ = ["SGD", "Momentum", "NAG", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "NAdam", "Adamax"]
