// Waits until stdin is closed, doing nothing else.
Console.In.ReadToEnd();
