using Microsoft.Extensions.Configuration;
using Crate.Core.Runtime;
using Crate.Host.Cli;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// crate: the CRATE reproduction harness. See README.md.

// libtorch under glibc's malloc grows RSS by GiBs over a long run: re-execute under jemalloc first
// (same PID; CRATE_ALLOCATOR=system turns it off). Returns only when nothing was re-executed.
if (NativeAllocator.RelaunchIfNeeded() is { } exitCode) return exitCode;

var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
{
    Args = [],                                  // the command line belongs to System.CommandLine
    ContentRootPath = AppContext.BaseDirectory,
    EnvironmentName = Environments.Production,
});
builder.Configuration.AddEnvironmentVariables(prefix: "CRATE_");
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
builder.Logging.SetMinimumLevel(Environment.GetEnvironmentVariable("CRATE_LOG_LEVEL") is { } level
    && Enum.TryParse<LogLevel>(level, ignoreCase: true, out var parsed) ? parsed : LogLevel.Information);
// The console logger writes everything at or above this level to stderr, leaving stdout to the CLI.
builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
builder.Services.AddSingleton(sp => new CliApp(sp.GetRequiredService<ILoggerFactory>(), Console.Out, Console.Error));

using var host = builder.Build();
return host.Services.GetRequiredService<CliApp>().Invoke(args);
