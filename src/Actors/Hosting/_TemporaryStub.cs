using Akka.Hosting;
namespace ClockBound.Actors.Hosting;
// Placeholder until the actors-io branch lands (removed on merge).
public static class ClockBoundActorsExtensions
{
    public static AkkaConfigurationBuilder WithClockBoundActors(this AkkaConfigurationBuilder builder, ClockBoundSettings settings, Action? onReopenLogs = null) => builder;
}
