using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace SockOps.Emit.Hosting;

/// <summary>Registers sock_ops programs with the .NET generic host.</summary>
public static class SockOpsServiceCollectionExtensions
{
    /// <summary>
    /// Adds the hosted service that loads the programs of <see cref="SockOpsOptions"/> at start and attaches them to
    /// <see cref="SockOpsOptions.CgroupPath"/>, the <see cref="SockOpsPrograms"/> registry and the <c>SockOps.Emit</c>
    /// meter (<see cref="SockOpsMetrics"/>). The options bind from the configuration section <c>"SockOps"</c> first, then
    /// <paramref name="configure"/> runs; they are validated at start (the host's start fails with
    /// <see cref="OptionsValidationException"/> naming the option).
    /// </summary>
    public static IServiceCollection AddSockOps(this IServiceCollection services, Action<SockOpsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<SockOpsOptions>().BindConfiguration(SockOpsOptions.SectionName).ValidateOnStart();
        if (configure is not null) services.Configure(configure);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SockOpsOptions>, SockOpsOptionsValidator>());
        services.TryAddSingleton<SockOpsPrograms>();
        services.TryAddSingleton(sp => new SockOpsMetrics(sp.GetRequiredService<SockOpsPrograms>(), sp.GetService<IMeterFactory>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SockOpsHostedService>());
        return services;
    }

    /// <summary>Adds <see cref="SockOpsHealthCheck"/> (attach state of every hosted program).</summary>
    public static IHealthChecksBuilder AddSockOps(this IHealthChecksBuilder builder, string name = "sockops", HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddCheck<SockOpsHealthCheck>(name, failureStatus, tags ?? []);
    }
}
