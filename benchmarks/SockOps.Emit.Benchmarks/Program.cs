using BenchmarkDotNet.Running;

// Run: dotnet run -c Release --project benchmarks/SockOps.Emit.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
