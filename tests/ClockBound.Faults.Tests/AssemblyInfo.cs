// End-to-end fault tests start real daemons, chronyd pairs and reader processes: running the classes one after another
// keeps a 2-core machine from turning scheduling noise into false failures.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
