"""cnnlib: the convolutional-network library that the course's students write, in NumPy.

Layouts follow PyTorch (NCHW). Importing cnnlib loads only the NumPy core; modules that need
torch (``cnnlib.reference``, ``cnnlib.checks``, ``cnnlib.figures``) are imported by name.
"""
from .conv import conv2d, conv2d_backward, conv2d_loops, convolve2d, corr2d, im2col
from .shapes import conv_output_size, pad2d, receptive_field, same_padding

__all__ = [
    "conv2d", "conv2d_backward", "conv2d_loops", "convolve2d", "corr2d", "im2col",
    "conv_output_size", "pad2d", "receptive_field", "same_padding",
]
