"""The visual lab: optimizers racing on 2-D loss surfaces, as PNG, GIF or MP4.

    from optimlab import lab
    result = lab.race("beale", ["sgd", "momentum", "adam"], steps=300, tune=True)
    lab.render(result, "beale.gif")

``race`` accepts registry names or ``(label, factory)`` pairs (any callable returning a
``torch.optim.Optimizer``); ``surfaces.get(name)`` / ``surfaces.names()`` give the built-in surfaces, and a
:class:`Surface` of your own races the same way.
"""

from optimlab.lab import surfaces
from optimlab.lab.racers import Racer
from optimlab.lab.racing import RaceResult, Run, race
from optimlab.lab.rendering import render
from optimlab.lab.surfaces import Surface

__all__ = ["race", "render", "surfaces", "Surface", "RaceResult", "Run", "Racer"]
