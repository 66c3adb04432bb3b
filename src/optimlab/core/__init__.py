"""optimlab's core: transforms, the engine, the torch.optim adapter and the registry."""
