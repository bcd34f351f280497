// Torch keeps process-wide state (the default generator the step benchmarks seed, the thread count): one test at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
