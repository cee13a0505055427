"""cnnlib: the convolutional-network library that the course's students write, in NumPy.

Layouts follow PyTorch (NCHW). Importing cnnlib loads only the NumPy core; modules that need
torch or matplotlib (``cnnlib.reference``, ``cnnlib.checks``, ``cnnlib.figures``) are imported
by name.
"""
from .activations import (leaky_relu, leaky_relu_backward, relu, relu_backward, sigmoid, sigmoid_backward, tanh,
                          tanh_backward)
from .conv import conv2d, conv2d_backward, conv2d_loops, convolve2d, corr2d, im2col
from .layers import AvgPool2d, Conv2d, Flatten, Layer, Linear, MaxPool2d, ReLU, Sequential
from .linear import flatten, flatten_backward, linear, linear_backward
from .losses import cross_entropy, cross_entropy_backward, labels_from_one_hot, log_softmax, one_hot, softmax
from .pool import avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward
from .shapes import conv_output_size, pad2d, receptive_field, same_padding

__all__ = [
    "conv2d", "conv2d_backward", "conv2d_loops", "convolve2d", "corr2d", "im2col",
    "conv_output_size", "pad2d", "receptive_field", "same_padding",
    "relu", "relu_backward", "leaky_relu", "leaky_relu_backward", "sigmoid", "sigmoid_backward",
    "tanh", "tanh_backward",
    "max_pool2d", "max_pool2d_backward", "avg_pool2d", "avg_pool2d_backward",
    "linear", "linear_backward", "flatten", "flatten_backward",
    "softmax", "log_softmax", "cross_entropy", "cross_entropy_backward", "one_hot", "labels_from_one_hot",
    "Layer", "Conv2d", "ReLU", "MaxPool2d", "AvgPool2d", "Flatten", "Linear", "Sequential",
]

# chapter 7: optimizers and dropout
from .dropout import Dropout, dropout, dropout_backward
from .optim import SGD, Adadelta, Adam, RMSProp, adadelta_step, adam_step, rmsprop_step, sgd_step

__all__ += ["dropout", "dropout_backward", "Dropout", "sgd_step", "adam_step", "rmsprop_step", "adadelta_step",
            "SGD", "Adam", "RMSProp", "Adadelta"]

# chapter 8: architectures
from .param_counts import conv2d_mult_adds, conv2d_params, depthwise_separable_params
from .residual import residual_block, residual_block_backward

__all__ += ["conv2d_params", "depthwise_separable_params", "conv2d_mult_adds", "residual_block",
            "residual_block_backward"]

from .gradcam import grad_cam_map  # noqa: E402  (chapter 9; NumPy only, torch is imported lazily there)

__all__ += ["grad_cam_map"]
