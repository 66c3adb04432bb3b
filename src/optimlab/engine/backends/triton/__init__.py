"""The Triton backend (``impl="triton"``, CUDA): the traced program written out as one Triton kernel per bucket.

:mod:`.codegen` writes the kernel source from the op table's ``triton`` formulas; :mod:`.launcher` caches
kernels and device tables and launches them. Under ``TRITON_INTERPRET=1`` the same kernels run on CPU tensors
(Triton's interpreter): that is how they are tested without a GPU.
"""
