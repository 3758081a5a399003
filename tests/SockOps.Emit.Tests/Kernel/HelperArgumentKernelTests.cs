using SockOps.Emit.TestSupport;

namespace SockOps.Emit.Tests.Kernel;

/// <summary>
/// Proves the argument kinds of the helper table: for every helper whose arguments a test can build
/// from their kinds alone (ctx, map, key/value/buffer on the stack, constant sizes, the NULL-checked
/// socket, 0 for scalars and nullable pointers), the call built from the model's kinds loads.
/// </summary>
public class HelperArgumentKernelTests
{
    public static TheoryData<int> BuildableHelpers =>
        [.. Helpers.All.Where(h => h.Arguments.All(a => HelperMapTypeKernelTests.Buildable.Contains(a.Kind))).Select(h => h.Id)];

    [Fact]
    public void Helpers_left_out_need_callbacks_timers_locks_dynptrs_btf_pointers_or_a_prior_reservation()
    {
        var left = Helpers.All.Where(h => !h.Arguments.All(a => HelperMapTypeKernelTests.Buildable.Contains(a.Kind)))
            .SelectMany(h => h.Arguments.Select(a => a.Kind).Where(k => !HelperMapTypeKernelTests.Buildable.Contains(k))).Distinct().Order().ToList();
        Assert.Equal(
        [
            HelperArgumentKind.ReadOnlyMemoryOrNull, HelperArgumentKind.WritableMemoryOrNull, HelperArgumentKind.FixedSizeUninitializedMemory,
            HelperArgumentKind.BtfId, HelperArgumentKind.BtfIdOrNullRelease, HelperArgumentKind.RingbufMemoryRelease, HelperArgumentKind.ConstString,
            HelperArgumentKind.SpinLock, HelperArgumentKind.Timer, HelperArgumentKind.Function, HelperArgumentKind.StackOrNull, HelperArgumentKind.KptrExchangeDestination,
            HelperArgumentKind.PercpuBtfId, HelperArgumentKind.UninitializedRingbufDynptr, HelperArgumentKind.RingbufDynptrRelease,
            HelperArgumentKind.UninitializedLocalDynptr, HelperArgumentKind.ReadOnlyDynptr,
        ], left);
    }

    [Theory]
    [MemberData(nameof(BuildableHelpers))]
    public void A_call_built_from_the_model_loads(int helperId)
    {
        KernelGate.Require();
        var helper = Helpers.Find(helperId)!;
        var mapArgument = helper.Arguments.FirstOrDefault(a => a.Kind == HelperArgumentKind.MapPointer);
        var shape = mapArgument is null ? null : HelperMapTypeKernelTests.Creatable.FirstOrDefault(s => mapArgument.AcceptedMapTypes.Contains(s.Type));
        if (mapArgument is not null && shape is null)
        {
            // Map types that need kernel BTF ids (task/cgroup-v2 storage): covered by the negative map-type test only.
            Assert.DoesNotContain(mapArgument.AcceptedMapTypes, t => HelperMapTypeKernelTests.Creatable.Any(s => s.Type == t));
            return;
        }
        using var map = shape?.Create();
        var result = RawBpf.LoadSockOps(HelperMapTypeKernelTests.CallWithMap(helper, map is null ? 0 : (int)map.DangerousGetHandle()));
        if (helper.MightSleep)
            Assert.Contains("helper call might sleep in a non-sleepable prog", result.Log, StringComparison.Ordinal); // refused by design, after the argument-independent checks
        else
            Assert.True(result.Accepted, $"{helper.Name}({string.Join(", ", helper.Arguments)}): {result}");
    }
}
