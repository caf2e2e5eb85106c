#!/usr/bin/python3
"""Writes tests/fixtures/dpo/dpo_loss.json: DPO losses, rewards, metrics and gradients computed with PyTorch.

Run: /usr/bin/python3 tests/reference/dpo/make_fixtures.py   (Debian python3-torch; written with torch 1.13)
     /usr/bin/python3 tests/reference/dpo/make_fixtures.py --ipo-metrics-only   (no torch: rewrites only the ipo
     cases' rewards and metrics in the existing file with Python floats rounded to f32; see below)

The loss follows TRL's DPOTrainer.dpo_loss as of tag v0.22.0 (trl/trainer/dpo_trainer.py; formulas quoted in
/work/shared/spec/finetune.md section 2.5 and errata section 6), restated here from the formulas:
  z       = (pi_c - pi_r) - (ref_c - ref_r)
  sigmoid = -logsigmoid(b z)(1-e) - logsigmoid(-b z) e          (cDPO when e > 0; TRL <= 0.22 / torchtune)
  robust  = (-logsigmoid(b z)(1-e) + logsigmoid(-b z) e) / (1-2e)
  hinge   = relu(1 - b z)
  ipo     = (zn - 1/(2b))^2, zn = (pi_c - ref_c)/n_c - (pi_r - ref_r)/n_r: as current TRL (DPOTrainer._compute_loss,
            chosen_scores / chosen_mask.sum()), the length normalisation is inside the loss only, so the rewards and
            logps/* of ipo are sequence SUMS like every other loss. (TRL <= 0.22 normalised the log-probs themselves;
            zn is algebraically the same, so the loss and gradients did not change, only the logged values.)
  loss    = mean over the batch; rewards = b (pi - ref), detached.
  rpo     = with rpo_alpha a > 0 (TRL: losses + rpo_alpha * nll_loss, nll_loss = the chosen completions' token NLL,
            a mean over every chosen token of the batch): loss + a * (-sum(pi_c) / sum(n_c)).
Metrics use TRL's names: rewards/chosen, rewards/rejected, rewards/accuracies (strict >), rewards/margins,
logps/chosen, logps/rejected (batch means). Gradients are d loss / d policy log-probs.

Inputs: a batch of 6 random quadruples of summed log-probs (f32); the last pair has policy == reference (a tie:
z = 0, both rewards 0, not accurate). For ipo the sums come with completion token counts.
"""
import json
import os
import sys

if "--ipo-metrics-only" not in sys.argv:
    import torch
    import torch.nn.functional as F

FORMAT_VERSION = 1
GENERATOR = "tests/reference/dpo/make_fixtures.py"
B = 6


def dpo_loss(pc, pr, rc, rr, beta, loss_type, eps, counts_c=None, counts_r=None, rpo=0.0):
    z = (pc - pr) - (rc - rr)
    if loss_type == "sigmoid":
        losses = -F.logsigmoid(beta * z) * (1 - eps) - F.logsigmoid(-beta * z) * eps
    elif loss_type == "robust":
        losses = (-F.logsigmoid(beta * z) * (1 - eps) + F.logsigmoid(-beta * z) * eps) / (1 - 2 * eps)
    elif loss_type == "hinge":
        losses = torch.relu(1 - beta * z)
    elif loss_type == "ipo":
        zn = (pc - rc) / counts_c - (pr - rr) / counts_r
        losses = (zn - 1 / (2 * beta)) ** 2
    else:
        raise ValueError(loss_type)
    loss = losses.mean()
    if rpo > 0:
        loss = loss + rpo * (-pc.sum() / counts_c.sum())
    chosen_rewards = beta * (pc - rc).detach()
    rejected_rewards = beta * (pr - rr).detach()
    return loss, chosen_rewards, rejected_rewards


def make_inputs(gen, spread):
    """Summed log-probs: reference around -(5..60); policy = reference + noise of the given spread."""
    rc = -(5 + 55 * torch.rand(B, generator=gen))
    rr = -(5 + 55 * torch.rand(B, generator=gen))
    pc = rc + spread * (2 * torch.rand(B, generator=gen) - 1)
    pr = rr + spread * (2 * torch.rand(B, generator=gen) - 1)
    pc[B - 1] = rc[B - 1]
    pr[B - 1] = rr[B - 1]
    counts_c = torch.randint(1, 12, (B,), generator=gen)
    counts_r = torch.randint(1, 40, (B,), generator=gen)
    return [t.float() for t in (pc, pr, rc, rr)], counts_c, counts_r


def values(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def case(gen, loss_type, beta, eps, spread, rpo=0.0):
    (pc, pr, rc, rr), counts_c, counts_r = make_inputs(gen, spread)
    record = {"loss_type": loss_type, "beta": beta, "label_smoothing": eps,
              "policy_chosen": values(pc), "policy_rejected": values(pr),
              "ref_chosen": values(rc), "ref_rejected": values(rr)}
    pc = pc.clone().requires_grad_(True)
    pr = pr.clone().requires_grad_(True)
    if rpo > 0:
        record["rpo_alpha"] = rpo
    if loss_type == "ipo" or rpo > 0:
        record["chosen_token_counts"] = [int(c) for c in counts_c]
        record["rejected_token_counts"] = [int(c) for c in counts_r]
    lpc, lpr = pc, pr
    loss, cr, rj = dpo_loss(pc, pr, rc, rr, torch.tensor(beta, dtype=torch.float32).item(), loss_type, eps,
                            counts_c.float(), counts_r.float(), rpo)
    loss.backward()
    record.update({
        "loss": float(loss),
        "chosen_rewards": values(cr), "rejected_rewards": values(rj),
        "metrics": {
            "rewards/chosen": float(cr.mean()), "rewards/rejected": float(rj.mean()),
            "rewards/accuracies": float((cr > rj).float().mean()),
            "rewards/margins": float((cr - rj).mean()),
            "logps/chosen": float(lpc.detach().mean()), "logps/rejected": float(lpr.detach().mean()),
        },
        "grad_policy_chosen": values(pc.grad), "grad_policy_rejected": values(pr.grad),
    })
    return record


def ipo_metrics_only(path):
    """Without torch: the ipo cases' rewards b (pi - ref) and metrics from the stored f32 inputs (loss and gradients
    are unchanged by the switch to current TRL's logging, see the module docstring)."""
    import struct

    def f32(x):
        return struct.unpack("f", struct.pack("f", x))[0]

    with open(path) as f:
        data = json.load(f)
    for c in data["cases"]:
        if c["loss_type"] != "ipo":
            continue
        beta = f32(c["beta"])
        cr = [f32(f32(p - r) * beta) for p, r in zip(c["policy_chosen"], c["ref_chosen"])]
        rj = [f32(f32(p - r) * beta) for p, r in zip(c["policy_rejected"], c["ref_rejected"])]
        mean = lambda v: f32(sum(v) / len(v))
        c["chosen_rewards"], c["rejected_rewards"] = cr, rj
        c["metrics"] = {
            "rewards/chosen": mean(cr), "rewards/rejected": mean(rj),
            "rewards/accuracies": mean([1.0 if a > b else 0.0 for a, b in zip(cr, rj)]),
            "rewards/margins": mean([f32(a - b) for a, b in zip(cr, rj)]),
            "logps/chosen": mean(c["policy_chosen"]), "logps/rejected": mean(c["policy_rejected"]),
        }
    data["ipo_metrics"] = "rewritten by make_fixtures.py --ipo-metrics-only (Python floats rounded to f32)"
    with open(path, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    print(f"rewrote the ipo cases of {path}")


def main():
    import sys
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    if "--ipo-metrics-only" in sys.argv:
        ipo_metrics_only(os.path.join(root, "tests", "fixtures", "dpo", "dpo_loss.json"))
        return
    gen = torch.Generator().manual_seed(20240607)
    specs = [
        ("sigmoid", 0.1, 0.0, 20.0), ("sigmoid", 0.5, 0.0, 40.0), ("sigmoid", 0.1, 0.1, 20.0),
        ("sigmoid", 0.5, 0.3, 40.0), ("sigmoid", 5.0, 0.0, 60.0),   # 5.0: |beta z| up to ~300 (stability)
        ("robust", 0.1, 0.0, 20.0), ("robust", 0.1, 0.1, 20.0), ("robust", 0.5, 0.25, 40.0),
        ("hinge", 0.1, 0.0, 20.0), ("hinge", 1.0, 0.0, 4.0),
        ("ipo", 0.1, 0.0, 20.0), ("ipo", 0.5, 0.0, 10.0),
        ("sigmoid", 0.5, 0.0, 40.0, 1.0), ("ipo", 0.1, 0.0, 20.0, 0.5),   # RPO (rpo_alpha)
    ]
    cases = [case(gen, *s) for s in specs]
    out = os.path.join(root, "tests", "fixtures", "dpo", "dpo_loss.json")
    with open(out, "w") as f:
        json.dump({"format_version": FORMAT_VERSION, "generator": GENERATOR, "torch": torch.__version__,
                   "cases": cases}, f, indent=1)
        f.write("\n")
    print(f"wrote {out}: {len(cases)} cases")


if __name__ == "__main__":
    main()
