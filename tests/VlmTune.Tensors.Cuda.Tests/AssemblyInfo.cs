// Test classes run one after another: they share the simulated accelerators of Support/Sim.cs, and ILGPU's CPU
// accelerator can return from the first launch of a just-loaded kernel before the kernel has finished when another
// thread launches kernels at the same time (measured: the output read back as zeros, correct 200 ms later). Its
// launches are serialised internally anyway, so little is lost.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
