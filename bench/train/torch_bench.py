"""PyTorch CPU reference for bench/train.ts: same models, Adam, batch 128, synthetic data.

Prints one JSON object {"mlp": sps, "cnn28": sps, "cnn32": sps, "cpu": {"mlp": sps_per_cpu_second,
...}, "threads": n, "version": v}: sps from the median wall-clock step, cpu from the median
process CPU time of a step (all threads), which is robust to other processes on a shared machine.
Usage: python3 torch_bench.py [seconds_per_model] [threads]
"""
import json
import statistics
import sys
import time

import torch
import torch.nn as nn

BUDGET = float(sys.argv[1]) if len(sys.argv) > 1 else 6.0
THREADS = int(sys.argv[2]) if len(sys.argv) > 2 else 2
torch.set_num_threads(THREADS)
torch.manual_seed(0)
BATCH = 128


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
    cpu = []
    start = time.perf_counter()
    while time.perf_counter() - start < BUDGET or len(times) < 5:
        t0 = time.perf_counter()
        c0 = time.process_time()
        step()
        cpu.append(time.process_time() - c0)
        times.append(time.perf_counter() - t0)
    return BATCH / statistics.median(times), BATCH / max(statistics.median(cpu), 1e-9)


res = {
    "mlp": measure(mlp(), (1, 28, 28)),
    "cnn28": measure(cnn(1, 28), (1, 28, 28)),
    "cnn32": measure(cnn(3, 32), (3, 32, 32)),
}
out = {k: v[0] for k, v in res.items()}
out["cpu"] = {k: v[1] for k, v in res.items()}
out["threads"] = torch.get_num_threads()
out["version"] = torch.__version__
print(json.dumps(out))
