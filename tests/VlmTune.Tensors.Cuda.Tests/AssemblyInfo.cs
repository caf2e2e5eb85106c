// The simulated devices are ILGPU CPU accelerators, whose kernel launch is not safe for concurrent callers
// (CPUAccelerator.Launch sets up one shared set of group/warp contexts and a single current task; two test classes
// launching at once got zeros and NullReferenceExceptions). Test classes share Sim.Device / Sim.Wide, so they run
// one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
