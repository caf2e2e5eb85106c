// Every test class shares the simulated backends of Sim (one accelerator, one stream). ILGPU's CPU accelerator is not
// safe for kernel launches from several threads at once (seen: a GEMM launched while another class's copies ran left
// part of its grid unexecuted), and the real backend is single-threaded by design: run the classes one at a time.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
