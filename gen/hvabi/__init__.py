"""hvabi: one machine-readable spec of the Hyper-V hypervisor ABI, and the tools around it."""

FORMAT = 1
