"""The PyTorch peer of `sigprop theory sde`'s finite networks (bench case e): shaped-attention
networks at initialisation, attention only (Noci et al. 2023, paper 004), every network in one
batch, drawn by the reduced sampler of src/studies/sde/shaped_finite.h — the same law and dtypes
(tokens float32, covariances float64), not the same random numbers.

Usage: .venv/bin/python bench/sde_peer.py CASE_DIR THREADS
Reads CASE_DIR/sde.json ({"width", "key_width", "depth", "networks", "tokens", "rho0", "gamma",
"tau0", "seed"}; key_width 0 means the width) and prints one JSON line:
{"seconds": [the simulation], "mean_rho": [mean off-diagonal correlation after each block,
0..depth], "final_rho_mean": its last entry}.
"""
import json
import math
import os
import sys
import time

import torch

from peak_rss import peak_rss_mib  # noqa: E402  (this folder is on sys.path)


def square_root_factor(V):
    """Some R with R R^T = V, (N, m, m) float64: the Cholesky factor, or, when any V in the batch
    has collapsed to not numerically positive definite, the PSD square root of all of them
    (eigenvalues clipped at 0), as sigprop's math/covariance.h does."""
    L, info = torch.linalg.cholesky_ex(V)
    if (info == 0).all():
        return L
    e, Q = torch.linalg.eigh(V)
    return (Q * e.clamp_min(0).sqrt().unsqueeze(-2)) @ Q.transpose(-2, -1)


def correlation(V):
    """rho_ij = V_ij / sqrt(V_ii V_jj): (N, m, m) -> (N, m, m)."""
    d = V.diagonal(0, -2, -1).clamp_min(torch.finfo(V.dtype).tiny).rsqrt()
    return V * d.unsqueeze(-1) * d.unsqueeze(-2)


def mean_offdiagonal(rho):
    """Mean over the networks and over i != j."""
    m = rho.shape[-1]
    return ((rho.sum((-2, -1)) - rho.diagonal(0, -2, -1).sum(-1)).mean() / (m * (m - 1))).item()


def simulate(c):
    n, m, N, depth = c["width"], c["tokens"], c["networks"], c["depth"]
    nk = c["key_width"] or n
    gamma = c["gamma"]
    lam = math.sqrt(1 - gamma * gamma)        # lambda^2 + gamma^2 = 1 (paper 004)
    tau = c["tau0"] * math.sqrt(n * nk)       # tau = tau0 sqrt(n n_k) (paper 004)
    torch.manual_seed(c["seed"])

    # Y_0 = sqrt(n) chol(V_0) O, O (m x n) with orthonormal rows (the Q of a Gaussian n x m), so
    # Y_0 Y_0^T / n = V_0 = (1 - rho0) I + rho0 11^T exactly: every token pair starts at rho0.
    V0 = (1 - c["rho0"]) * torch.eye(m, dtype=torch.float64) + c["rho0"]
    O = torch.linalg.qr(torch.randn(N, n, m, dtype=torch.float64)).Q.transpose(1, 2)
    Y = (math.sqrt(n) * torch.linalg.cholesky(V0) @ O).float()  # (N, m, n)
    shape = torch.eye(m) - 1.0 / m  # I - 11^T/m, what shaping adds to the softmax (paper 004)

    def covariance(Y):  # V = Y Y^T / n, float64: (N, m, m)
        Yd = Y.double()
        return Yd @ Yd.transpose(1, 2) / n

    V = covariance(Y)
    mean_rho = [mean_offdiagonal(correlation(V))]
    for _ in range(depth):
        # Given Y, Y W / sqrt(n) for a fresh n x cols N(0, 1) matrix W has i.i.d. N(0, V) columns,
        # so it is R Z with R R^T = V and Z an m x cols Gaussian: O(m n) numbers, not n^2.
        R = square_root_factor(V).float()
        v = R @ torch.randn(N, m, n)   # Y W_V / sqrt(n)
        q = R @ torch.randn(N, m, nk)  # Y W_Q / sqrt(n)
        k = R @ torch.randn(N, m, nk)  # Y W_K / sqrt(n)
        # Shaped attention A = I + softmax(q k^T / tau) - 11^T/m (paper 004).
        A = torch.softmax(q @ k.transpose(1, 2) / tau, -1) + shape
        # Residual Y_{l+1} = lambda Y_l + gamma A_l Y_l W_V / sqrt(n) (paper 004).
        Y = lam * Y + gamma * (A @ v)
        V = covariance(Y)
        mean_rho.append(mean_offdiagonal(correlation(V)))
    return mean_rho


def main(case_dir, threads):
    torch.set_num_threads(threads)
    config = json.load(open(os.path.join(case_dir, "sde.json")))
    t0 = time.perf_counter()
    mean_rho = simulate(config)
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": [seconds], "mean_rho": mean_rho, "final_rho_mean": mean_rho[-1],
                      "peak_rss_mib": peak_rss_mib()}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
