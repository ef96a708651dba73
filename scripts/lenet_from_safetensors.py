"""LeNet's forward pass in NumPy from the weights `skilang train` writes (model/digit.safetensors),
checking that the file alone (PyTorch names and layouts, input statistics in its metadata) gives
the test accuracy skilang reported.

    pip install numpy safetensors
    python3 scripts/lenet_from_safetensors.py DATA/mnist runs/mnist-supervised/model/digit.safetensors
"""
import gzip, json, sys, numpy as np
from safetensors import safe_open
from numpy.lib.stride_tricks import sliding_window_view as win
d = sys.argv[1]
def idx(name):
    raw = open(f"{d}/{name}", 'rb').read() if not name.endswith('.gz') else gzip.open(f"{d}/{name}").read()
    n = int.from_bytes(raw[4:8], 'big')
    return np.frombuffer(raw, np.uint8, offset=16 if raw[3] == 3 else 8)
with safe_open(sys.argv[2], 'np') as f:
    w = {k: f.get_tensor(k) for k in f.keys()}; meta = f.metadata()
mean, std = json.loads(meta['input_mean'])[0], json.loads(meta['input_std'])[0]
import os
img = [n for n in os.listdir(d) if n.startswith('t10k-images')][0]; lab = [n for n in os.listdir(d) if n.startswith('t10k-labels')][0]
x = ((idx(img).reshape(-1, 1, 28, 28) / 255.0 - mean) / std).astype(np.float32); y = idx(lab)
def conv(x, k, b): return np.einsum('nchwij,ocij->nohw', win(x, k.shape[2:], axis=(2, 3)), k) + b[None, :, None, None]
def pool(x): n, c, h, w_ = x.shape; return x.reshape(n, c, h // 2, 2, w_ // 2, 2).max(axis=(3, 5))
relu = lambda v: np.maximum(v, 0)
h = pool(relu(conv(x, w['c1.weight'], w['c1.bias']))); h = pool(relu(conv(h, w['c2.weight'], w['c2.bias'])))
h = h.reshape(len(h), -1)
h = relu(h @ w['f1.weight'].T + w['f1.bias']); h = relu(h @ w['f2.weight'].T + w['f2.bias']); h = h @ w['f3.weight'].T + w['f3.bias']
print("accuracy", (h.argmax(1) == y).mean())
