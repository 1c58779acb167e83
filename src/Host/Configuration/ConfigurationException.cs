namespace ClockBound.Host.Configuration;

/// <summary>Invalid input (option, config file, config value). The message is one line naming the culprit.</summary>
public sealed class ConfigurationException(string message) : Exception(message);
