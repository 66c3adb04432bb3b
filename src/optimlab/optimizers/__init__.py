"""The optimizer family: one module per optimizer (presets beside their parent).

Nothing here lists them: :mod:`optimlab.catalog` discovers every module of this package and every
:class:`optimlab.Optimizer` subclass in it that has a registry ``name``. Adding an optimizer is adding a file.
"""
