// Torch keeps process-wide state (the default generator that torch.manual_seed seeds, the intra-op
// thread count): tests that check bit-exact resume or seeded results must not interleave with other
// tests that touch it, so this assembly's tests run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
