using System.Net.Sockets;
using ClockBound.Io.Chrony;
using ClockBound.TestSupport;

namespace ClockBound.Io.Tests.Chrony;

/// <summary>Connecting: the client's own socket and the errors when chronyd's socket is missing or forbidden.</summary>
public sealed class ChronyClientConnectTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Missing_socket_must_fail_as_SocketMissing_naming_the_path()
    {
        var path = _directory.Combine("chronyd.sock");

        var e = Assert.Throws<ChronyException>(() => ChronyClient.Connect(path));

        Assert.Equal(ChronyErrorKind.SocketMissing, e.Kind);
        Assert.Equal($"chronyd socket {path} does not exist: is chronyd running?", e.Message);
        Assert.Equal(path, e.SocketPath);
        Assert.Empty(Directory.GetFileSystemEntries(_directory.Path)); // no client socket left behind
    }

    [Fact]
    public void Missing_socket_directory_must_fail_as_SocketMissing_naming_the_path()
    {
        var path = _directory.Combine("absent", "chronyd.sock");

        var e = Assert.Throws<ChronyException>(() => ChronyClient.Connect(path));

        Assert.Equal(ChronyErrorKind.SocketMissing, e.Kind);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Socket_file_without_listener_must_fail_as_SocketMissing()
    {
        var path = _directory.Combine("chronyd.sock");
        using (var dead = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified))
            dead.Bind(new UnixDomainSocketEndPoint(path)); // the file stays after close, as after a crashed chronyd

        var e = Assert.Throws<ChronyException>(() => ChronyClient.Connect(path));

        Assert.Equal(ChronyErrorKind.SocketMissing, e.Kind);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Client_socket_must_be_bound_next_to_chronyds_with_mode_0666_and_unlinked_on_dispose()
    {
        using var chronyd = new FakeChronydSocket(_directory.Combine("chronyd.sock"));
        var client = ChronyClient.Connect(chronyd.Path);

        Assert.Equal(_directory.Path, Path.GetDirectoryName(client.SocketPath));
        Assert.Matches($@"^clockbound\.{Environment.ProcessId}\.[0-9a-f]{{8}}\.sock$", Path.GetFileName(client.SocketPath));
        Assert.Equal((UnixFileMode)0b110_110_110, File.GetUnixFileMode(client.SocketPath));

        client.Dispose();
        Assert.False(File.Exists(client.SocketPath));
        client.Dispose(); // idempotent
    }

    [Fact]
    public void Client_socket_must_go_to_the_given_directory()
    {
        using var chronyd = new FakeChronydSocket(_directory.Combine("chronyd.sock"));
        var own = Directory.CreateDirectory(_directory.Combine("own")).FullName;

        using var client = ChronyClient.Connect(chronyd.Path, own);

        Assert.Equal(own, Path.GetDirectoryName(client.SocketPath));
        Assert.True(File.Exists(client.SocketPath));
    }

    [Fact]
    public void Two_clients_must_get_distinct_sockets()
    {
        using var chronyd = new FakeChronydSocket(_directory.Combine("chronyd.sock"));

        using var first = ChronyClient.Connect(chronyd.Path);
        using var second = ChronyClient.Connect(chronyd.Path);

        Assert.NotEqual(first.SocketPath, second.SocketPath);
    }

    [Fact]
    public void Too_long_socket_path_must_fail_naming_the_path()
    {
        var path = _directory.Combine(new string('x', 110), "chronyd.sock");

        var e = Assert.Throws<ChronyException>(() => ChronyClient.Connect(path));

        Assert.Equal(ChronyErrorKind.Socket, e.Kind);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Unwritable_client_socket_directory_must_fail_as_PermissionDenied_naming_directory_and_user()
    {
        using var chronyd = new FakeChronydSocket(_directory.Combine("chronyd.sock"));
        var readOnly = Directory.CreateDirectory(_directory.Combine("ro")).FullName;
        File.SetUnixFileMode(_directory.Path, (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(readOnly, (UnixFileMode)0b111_101_101);

        var e = ThreadCredentials.RunAsNobody(() => Assert.Throws<ChronyException>(() => ChronyClient.Connect(chronyd.Path, readOnly)));

        Assert.Equal(ChronyErrorKind.PermissionDenied, e.Kind);
        Assert.Contains(readOnly, e.Message);
        Assert.Contains("nobody", e.Message);
    }

    [Fact]
    public async Task Request_after_dispose_must_throw_ObjectDisposedException()
    {
        using var chronyd = new FakeChronydSocket(_directory.Combine("chronyd.sock"));
        var client = ChronyClient.Connect(chronyd.Path);
        client.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.GetTrackingAsync());
    }
}
