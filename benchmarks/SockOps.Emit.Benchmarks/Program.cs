using BenchmarkDotNet.Running;
using SockOps.Emit.Benchmarks;

// Run: dotnet run -c Release --project benchmarks/SockOps.Emit.Benchmarks -- --filter '*'
// Kernel run time of DSL vs clang code (root): dotnet run -c Release --project benchmarks/SockOps.Emit.Benchmarks -- runtime-vs-clang [--pairs N] [--aa]
if (args.Length > 0 && args[0] == RuntimeVsClang.Verb) return RuntimeVsClang.Run(args[1..]);
if (args.Length > 0 && args[0] == TrafficWorker.Verb) return TrafficWorker.Serve();
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
