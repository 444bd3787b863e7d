"""PyTorch CPU reference for bench/train.ts: same models, Adam, batch 128, synthetic data.

Prints one JSON object {"mlp": sps, "cnn28": sps, "cnn32": sps, "threads": n, "version": v}.
Usage: python3 torch_bench.py [seconds_per_model]
"""
import json
import statistics
import sys
import time

import torch
import torch.nn as nn

torch.set_num_threads(2)
torch.manual_seed(0)
BATCH = 128
BUDGET = float(sys.argv[1]) if len(sys.argv) > 1 else 6.0


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                         nn.Linear(256, 10))


def cnn(c, hw):
    flat = 64 * (hw // 4) * (hw // 4)
    return nn.Sequential(
        nn.Conv2d(c, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(flat, 128), nn.ReLU(), nn.Linear(128, 10))


def measure(model, shape):
    g = torch.Generator().manual_seed(1)
    x = torch.randn((BATCH,) + shape, generator=g)
    y = torch.randint(0, 10, (BATCH,), generator=g)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(3):
        step()
    times = []
    start = time.perf_counter()
    while time.perf_counter() - start < BUDGET or len(times) < 5:
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return BATCH / statistics.median(times)


out = {
    "mlp": measure(mlp(), (1, 28, 28)),
    "cnn28": measure(cnn(1, 28), (1, 28, 28)),
    "cnn32": measure(cnn(3, 32), (3, 32, 32)),
    "threads": torch.get_num_threads(),
    "version": torch.__version__,
}
print(json.dumps(out))
