"""cnnlib.layers: whole networks against torch.nn, and the layer objects' contract.

A cnnlib network and a torch.nn network of the same structure share their parameters (copied
through ``load_state_dict``, which also proves that the parameter names agree); both run forward,
cross-entropy and backward in float64 (torch on reference.DEVICE, the GPU when present, TF32 off),
and the outputs, the loss, the input gradient and every parameter gradient must agree.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import cnnlib
from cnnlib import (AvgPool2d, Conv2d, Flatten, Layer, Linear, MaxPool2d, ReLU, Sequential, cross_entropy,
                    cross_entropy_backward)
from cnnlib import reference as ref
from cnnlib.gradcheck import gradcheck
from helpers import assert_close

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

_assert_close = assert_close


# ---------------------------------------------------------------- a cnnlib network as torch.nn

def _arg(v):
    return tuple(v) if isinstance(v, (list, tuple)) else v


def to_torch(layer: Layer) -> torch.nn.Module:
    """The torch.nn module with the same structure as a cnnlib layer (fresh parameters)."""
    nn = torch.nn
    if isinstance(layer, Sequential):
        return nn.Sequential(*(to_torch(sub) for sub in layer.layers))
    if isinstance(layer, Conv2d):
        f, c, kh, kw = layer.params["weight"].shape
        return nn.Conv2d(c, f, (kh, kw), stride=_arg(layer.stride), padding=_arg(layer.padding),
                         bias="bias" in layer.params)
    if isinstance(layer, Linear):
        out_f, in_f = layer.params["weight"].shape
        return nn.Linear(in_f, out_f, bias="bias" in layer.params)
    if isinstance(layer, MaxPool2d):
        return nn.MaxPool2d(_arg(layer.kernel_size), _arg(layer.stride))
    if isinstance(layer, AvgPool2d):
        return nn.AvgPool2d(_arg(layer.kernel_size), _arg(layer.stride))
    simple = {ReLU: nn.ReLU, Flatten: nn.Flatten}
    return simple[type(layer)]()


def torch_copy(net: Layer) -> torch.nn.Module:
    """to_torch(net) in float64 on reference.DEVICE, holding a copy of net's parameters."""
    model = to_torch(net).to(device=ref.DEVICE, dtype=torch.float64)
    model.load_state_dict({name: ref.tensor(value) for name, value, _ in net.parameters()})  # strict: names must match
    return model


def compare_with_torch(net: Sequential, x: np.ndarray, targets: np.ndarray, rtol: float = 1e-10) -> None:
    """One training step's numbers, cnnlib against torch: logits, loss, dx and every parameter gradient."""
    model = torch_copy(net)
    logits = net.forward(x)
    loss = cross_entropy(logits, targets)
    dx = net.backward(cross_entropy_backward(logits, targets))

    xt = ref.tensor(x, requires_grad=True)
    logits_t = model(xt)
    loss_t = F.cross_entropy(logits_t, torch.as_tensor(targets, dtype=torch.int64, device=ref.DEVICE))
    loss_t.backward()

    _assert_close(logits, ref.numpy(logits_t), "logits", rtol)
    np.testing.assert_allclose(loss, loss_t.item(), rtol=rtol, err_msg="loss")
    _assert_close(dx, ref.numpy(xt.grad), "input gradient", rtol)
    torch_grads = {name: p.grad for name, p in model.named_parameters()}
    ours = {name: g for name, _, g in net.parameters()}
    assert set(ours) == set(torch_grads), f"parameters {sorted(ours)} vs torch's {sorted(torch_grads)}"
    for name, g in ours.items():
        assert g is not None, f"no gradient for {name} after backward"
        _assert_close(g, ref.numpy(torch_grads[name]), f"gradient of {name}", rtol)


# ---------------------------------------------------------------- whole networks

def small_net(dtype=np.float64, seed=0) -> Sequential:
    """(N, 3, 11, 10) -> conv 3x3 s2 p1 -> (4, 6, 5) -> relu -> maxpool 2 s1 (overlapping) -> (4, 5, 4)
    -> conv (3, 2) s(1, 2) p(1, 0) -> (5, 5, 2) -> relu -> avgpool 2 -> (5, 2, 1) -> flatten 10 -> linear 7."""
    rng = np.random.default_rng(seed)
    return Sequential(
        Conv2d(3, 4, 3, stride=2, padding=1, rng=rng, dtype=dtype),
        ReLU(),
        MaxPool2d(2, stride=1),
        Conv2d(4, 5, (3, 2), stride=(1, 2), padding=(1, 0), rng=rng, dtype=dtype),
        ReLU(),
        AvgPool2d(2),
        Flatten(),
        Linear(10, 7, rng=rng, dtype=dtype),
    )


def test_small_network_matches_torch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 3, 11, 10))
    targets = rng.integers(0, 7, 3)
    compare_with_torch(small_net(), x, targets)


def test_small_network_batch_of_one():
    rng = np.random.default_rng(2)
    compare_with_torch(small_net(seed=3), rng.standard_normal((1, 3, 11, 10)), np.array([6]))


def test_lenet_like_network_matches_torch():
    """The benchmark's network: LeNet-like on 28x28 (24, 12, 8, 4), two hidden fully connected layers."""
    rng = np.random.default_rng(4)
    net = Sequential(
        Conv2d(1, 6, 5, rng=rng, dtype=np.float64), ReLU(), MaxPool2d(2),
        Conv2d(6, 16, 5, rng=rng, dtype=np.float64), ReLU(), MaxPool2d(2),
        Flatten(), Linear(256, 120, rng=rng, dtype=np.float64), ReLU(),
        Linear(120, 84, rng=rng, dtype=np.float64), ReLU(), Linear(84, 10, rng=rng, dtype=np.float64),
    )
    compare_with_torch(net, rng.standard_normal((5, 1, 28, 28)), rng.integers(0, 10, 5))


@st.composite
def architectures(draw):
    """(net, x, targets): conv, relu, max or avg pool, conv, maybe relu, flatten, one or two linear."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n, c, h, w = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(5, 12)), draw(st.integers(5, 12))

    def conv(c_in, h, w):
        f = draw(st.integers(1, 4))
        k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        s = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
        p = (draw(st.integers(0, 1)), draw(st.integers(0, 1)))
        ho, wo = (h + 2 * p[0] - k[0]) // s[0] + 1, (w + 2 * p[1] - k[1]) // s[1] + 1
        assume(min(h + 2 * p[0] - k[0], w + 2 * p[1] - k[1]) >= 0)
        kernel = k[0] if k[0] == k[1] and draw(st.booleans()) else k
        layer = Conv2d(c_in, f, kernel, stride=s, padding=p, bias=draw(st.booleans()), rng=rng, dtype=np.float64)
        return layer, f, ho, wo

    layers = []
    conv1, c1, h1, w1 = conv(c, h, w)
    layers += [conv1, ReLU()]
    k = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    assume(k[0] <= h1 and k[1] <= w1)
    stride = draw(st.sampled_from([None, 1, (1, 2), 2]))
    s = k if stride is None else (stride, stride) if isinstance(stride, int) else stride
    layers.append(draw(st.sampled_from([MaxPool2d, AvgPool2d]))(k, stride))
    h2, w2 = (h1 - k[0]) // s[0] + 1, (w1 - k[1]) // s[1] + 1
    conv2, c3, h3, w3 = conv(c1, h2, w2)
    layers.append(conv2)
    if draw(st.booleans()):
        layers.append(ReLU())
    features = c3 * h3 * w3
    classes = draw(st.integers(2, 5))
    layers.append(Flatten())
    if draw(st.booleans()):
        hidden = draw(st.integers(1, 6))
        layers += [Linear(features, hidden, rng=rng, dtype=np.float64), ReLU()]
        features = hidden
    layers.append(Linear(features, classes, bias=draw(st.booleans()), rng=rng, dtype=np.float64))
    return Sequential(*layers), rng.standard_normal((n, c, h, w)), rng.integers(0, classes, n)


@settings(max_examples=40, deadline=None)
@given(architectures())
def test_random_networks_match_torch(case):
    net, x, targets = case
    compare_with_torch(net, x, targets)


def test_network_gradients_pass_gradcheck():
    """The chain of backward calls, checked by central differences: dx and two parameters."""
    net = small_net(seed=5)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 3, 11, 10))
    dout = rng.standard_normal((2, 7))
    net.forward(x)
    grads = {"x": net.backward(dout), "w0": net[0].grads["weight"], "b7": net[7].grads["bias"]}
    saved = net[0].params["weight"], net[7].params["bias"]

    def f(x, w0, b7):
        net[0].params["weight"], net[7].params["bias"] = w0, b7
        try:
            return net.forward(x)
        finally:
            net[0].params["weight"], net[7].params["bias"] = saved

    results = gradcheck(f, {"x": x, "w0": saved[0], "b7": saved[1]}, grads, dout)
    for r in results.values():
        assert r.passed, str(r)


# ---------------------------------------------------------------- float32

def test_float32_network_stays_float32_and_is_accurate():
    net = small_net(dtype=np.float32, seed=7)
    assert all(v.dtype == np.float32 for _, v, _ in net.parameters())
    rng = np.random.default_rng(8)
    x = rng.standard_normal((4, 3, 11, 10)).astype(np.float32)
    targets = rng.integers(0, 7, 4)
    logits = net.forward(x)
    loss = cross_entropy(logits, targets)
    dx = net.backward(cross_entropy_backward(logits, targets))
    assert logits.dtype == dx.dtype == np.asarray(loss).dtype == np.float32
    assert all(g.dtype == np.float32 for _, _, g in net.parameters())
    compare_with_torch(net, x, targets, rtol=1e-4)  # the same network in float64 (torch_copy upcasts)


def test_float64_input_into_a_float32_network_is_refused():
    net = small_net(dtype=np.float32)
    with pytest.raises(ValueError, match="float32.*float64|float64.*float32"):
        net.forward(np.zeros((1, 3, 11, 10)))


# ---------------------------------------------------------------- the layer contract

def _every_layer():
    rng = np.random.default_rng(0)
    return [Conv2d(2, 3, 3, rng=rng), Linear(4, 2, rng=rng), ReLU(), MaxPool2d(2), AvgPool2d(2), Flatten(),
            Sequential(ReLU(), Flatten())]


@pytest.mark.parametrize("layer", _every_layer(), ids=lambda layer: type(layer).__name__)
def test_backward_before_forward_raises(layer):
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones((1, 3, 2, 2), np.float32))


def test_sequential_rejects_non_layers():
    for bad in ["relu", torch.nn.ReLU(), cnnlib.relu, None, [ReLU()]]:
        with pytest.raises(ValueError, match="layer 1") as info:
            Sequential(ReLU(), bad, Flatten())
        assert type(bad).__name__ in str(info.value)


def test_first_layer_can_skip_the_input_gradient():
    """Conv2d(input_grad=False) first: backward returns None, every parameter gradient is unchanged."""
    def net(skip: bool) -> Sequential:
        rng = np.random.default_rng(4)
        return Sequential(Conv2d(2, 3, 3, padding=1, rng=rng, dtype=np.float64, input_grad=not skip), ReLU(),
                          MaxPool2d(2), Flatten(), Linear(12, 5, rng=rng, dtype=np.float64))
    rng = np.random.default_rng(5)
    x, dout = rng.standard_normal((4, 2, 4, 4)), rng.standard_normal((4, 5))
    full, skipping = net(False), net(True)
    full.forward(x), skipping.forward(x)
    assert full.backward(dout).shape == x.shape
    assert skipping.backward(dout) is None
    for (name, _, g), (_, _, g_skip) in zip(full.parameters(), skipping.parameters()):
        np.testing.assert_array_equal(g_skip, g, err_msg=name)
    assert "input_grad=False" in repr(skipping[0])


def test_only_the_first_layer_may_skip_the_input_gradient():
    for later in [Conv2d(1, 1, 1, input_grad=False), Sequential(Conv2d(1, 1, 1, input_grad=False), ReLU())]:
        with pytest.raises(ValueError, match=r"(?s)layer 1 .*input_grad=False.*only layer 0"):
            Sequential(ReLU(), later)
    Sequential(Sequential(Conv2d(1, 1, 1, input_grad=False)), ReLU())  # first, nested: fine


def test_parameter_names_match_torch_state_dict():
    rng = np.random.default_rng(0)
    net = Sequential(
        Conv2d(1, 2, 3, rng=rng), ReLU(), MaxPool2d(2),
        Sequential(Conv2d(2, 2, 1, bias=False, rng=rng), ReLU(), Sequential(Conv2d(2, 3, 2, rng=rng))),
        Flatten(), Linear(3, 4, bias=False, rng=rng), ReLU(), Linear(4, 2, rng=rng),
    )
    names = [name for name, _, _ in net.parameters()]
    state = to_torch(net).state_dict()
    assert names == list(state)
    assert names == ["0.weight", "0.bias", "3.0.weight", "3.2.0.weight", "3.2.0.bias", "5.weight", "7.weight",
                     "7.bias"]
    for name, value, grad in net.parameters():
        assert tuple(value.shape) == tuple(state[name].shape), name
        assert grad is None  # no backward yet


def test_backward_overwrites_gradients_instead_of_adding():
    """Unlike torch, where .grad accumulates until zeroed, cnnlib's layer.grads holds the last backward's."""
    net = small_net(seed=9)
    rng = np.random.default_rng(10)
    x, dout = rng.standard_normal((2, 3, 11, 10)), rng.standard_normal((2, 7))
    net.forward(x)
    net.backward(dout)
    first = {name: g.copy() for name, _, g in net.parameters()}
    net.forward(x)
    net.backward(dout)
    for name, _, g in net.parameters():
        np.testing.assert_array_equal(g, first[name], err_msg=name)
    assert set(net[0].grads) == set(net[0].params) == {"weight", "bias"}


def test_train_and_eval_propagate():
    inner = Sequential(ReLU(), Sequential(Flatten()))
    net = Sequential(Conv2d(1, 1, 1), inner, Linear(1, 1))
    everything = [net, net[0], inner, inner[0], inner[1], inner[1][0], net[2]]
    assert all(layer.training for layer in everything)
    assert net.eval() is net
    assert not any(layer.training for layer in everything)
    assert net.train() is net
    assert all(layer.training for layer in everything)
    net.train(False)
    assert not any(layer.training for layer in everything)
    inner.train()
    assert inner[1][0].training and not net.training and not net[0].training


# ---------------------------------------------------------------- initialization

@pytest.mark.parametrize("make, torch_make, fan_in", [
    (lambda rng: Conv2d(16, 32, 3, rng=rng), lambda: torch.nn.Conv2d(16, 32, 3), 16 * 9),
    (lambda rng: Conv2d(3, 64, (5, 3), rng=rng), lambda: torch.nn.Conv2d(3, 64, (5, 3)), 3 * 15),
    (lambda rng: Linear(400, 120, rng=rng), lambda: torch.nn.Linear(400, 120), 400),
])
def test_default_initialization_matches_torch(make, torch_make, fan_in):
    """Weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), the distribution torch's reset_parameters gives."""
    bound = 1 / np.sqrt(fan_in)
    layer = make(np.random.default_rng(0))
    torch.manual_seed(0)
    module = torch_make()
    for name in ("weight", "bias"):
        ours = layer.params[name]
        theirs = getattr(module, name).detach().numpy().astype(np.float64)
        assert ours.shape == theirs.shape and ours.dtype == np.float32
        # both sit inside the same bounds ...
        assert np.abs(ours).max() <= bound * (1 + 1e-6) and np.abs(theirs).max() <= bound * (1 + 1e-6), name
        if ours.size < 1000:
            continue
        # ... and fill them uniformly: extremes near +-bound, mean 0, std bound / sqrt(3), equal deciles
        for sample in (ours, theirs):
            assert sample.min() < -0.98 * bound and sample.max() > 0.98 * bound, name
            assert abs(sample.mean()) < 6 * bound / np.sqrt(3 * sample.size), name
            assert abs(sample.std() / (bound / np.sqrt(3)) - 1) < 0.05, name
        deciles = np.linspace(0.1, 0.9, 9)
        np.testing.assert_allclose(np.quantile(ours, deciles), np.quantile(theirs, deciles), atol=0.05 * bound)


def test_initialization_follows_rng_and_dtype():
    a = Conv2d(2, 3, 3, rng=np.random.default_rng(42), dtype=np.float64)
    b = Conv2d(2, 3, 3, rng=np.random.default_rng(42), dtype=np.float64)
    for name in ("weight", "bias"):
        assert a.params[name].dtype == np.float64
        np.testing.assert_array_equal(a.params[name], b.params[name])
    assert not np.array_equal(Linear(5, 5).params["weight"], Linear(5, 5).params["weight"])  # fresh entropy
    assert "bias" not in Linear(5, 5, bias=False).params


# ---------------------------------------------------------------- on a GPU

@pytest.mark.cuda
def test_small_network_on_cuda():
    assert ref.DEVICE.type == "cuda"
    rng = np.random.default_rng(11)
    compare_with_torch(small_net(seed=12), rng.standard_normal((8, 3, 11, 10)), rng.integers(0, 7, 8))


def test_public_names():
    assert {"Layer", "Conv2d", "ReLU", "MaxPool2d", "AvgPool2d", "Flatten", "Linear", "Sequential"} <= set(cnnlib.__all__)
