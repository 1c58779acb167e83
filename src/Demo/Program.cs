using ClockBound.Demo;

return await DemoRunner.RunAsync(args);
