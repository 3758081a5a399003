namespace SockOps.Emit.Testing.Tests;

public sealed class ProgramSnapshotTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sockops-snapshot-test-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Verify_uses_the_file_and_method_name_beside_the_test()
    {
        // The committed ProgramSnapshotTests.Verify_uses_the_file_and_method_name_beside_the_test.verified.txt is the oracle.
        ProgramSnapshot.Verify(TestPrograms.Buffers());
        string expected = Path.Combine(SourceDirectory(), "ProgramSnapshotTests.Verify_uses_the_file_and_method_name_beside_the_test.verified.txt");
        Assert.True(File.Exists(expected));
        Assert.False(File.Exists(expected.Replace(".verified.", ".received.", StringComparison.Ordinal)));
    }

    [Fact]
    public void The_listing_has_maps_disassembly_hex_and_source_lines()
    {
        string listing = ProgramListing.Format(TestPrograms.Buffers());
        string[] lines = listing.Split('\n');
        Assert.StartsWith("; kit_bufs: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(lines, l => l.Contains("; map .rodata", StringComparison.Ordinal) || l.StartsWith("   0: ", StringComparison.Ordinal));
        // Every instruction line: slot, llvm text, hex bytes, and the C# line of TestPrograms.cs that emitted it.
        var instructions = lines.Where(l => l.Length > 5 && l[4] == ':').ToList();
        Assert.NotEmpty(instructions);
        Assert.All(instructions.Where(l => !l.Contains("exit", StringComparison.Ordinal)), l => Assert.Matches(@"TestPrograms\.cs:\d+$", l));
        Assert.Contains(instructions, l => l.Contains("call 0x31", StringComparison.Ordinal) || l.Contains("call 49", StringComparison.Ordinal));
    }

    [Fact]
    public void Verified_path_follows_verify_naming()
    {
        string source = Path.Combine(_directory, "MyTests.cs");
        Assert.Equal(Path.Combine(_directory, "MyTests.Clamp.verified.txt"), ProgramSnapshot.VerifiedPath(source, "Clamp"));
        Assert.Equal(Path.Combine(_directory, "MyTests.Clamp_port-80.verified.txt"), ProgramSnapshot.VerifiedPath(source, "Clamp", "port-80"));
        Assert.Equal(Path.Combine(_directory, "Other.Clamp_a-b.verified.txt"), ProgramSnapshot.VerifiedPath(source, "Clamp", "a/b", className: "Other"));
    }

    [Fact]
    public void A_mapped_source_path_is_a_precise_error()
    {
        var e = Assert.Throws<SnapshotException>(() => ProgramSnapshot.VerifiedPath("/_/tests/MyTests.cs", "Clamp"));
        Assert.Contains("ContinuousIntegrationBuild", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_match_passes_and_removes_a_stale_received_file()
    {
        string verified = Write("A.M.verified.txt", "one\ntwo\n");
        File.WriteAllText(Received(verified), "stale");
        ProgramSnapshot.VerifyFile("one\r\ntwo", verified, ci: true, acceptRequested: false);
        Assert.False(File.Exists(Received(verified)));
    }

    [Fact]
    public void A_mismatch_writes_received_and_throws_with_a_line_diff()
    {
        string verified = Write("A.M.verified.txt", "one\ntwo\nthree\n");
        var e = Assert.Throws<SnapshotMismatchException>(() => ProgramSnapshot.VerifyFile("one\nTWO\nthree\n", verified, ci: false, acceptRequested: false));
        Assert.Equal("one\nTWO\nthree\n", File.ReadAllText(Received(verified)));
        Assert.Equal("one\ntwo\nthree\n", File.ReadAllText(verified));
        // DiffPlex reports the empty line after the final newline too.
        Assert.Equal("  one\n- two\n+ TWO\n  three\n  \n", e.Diff);
        Assert.Equal(verified, e.VerifiedPath);
        Assert.Equal(Received(verified), e.ReceivedPath);
        Assert.Contains("- two\n+ TWO", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CI_never_accepts_a_change()
    {
        string verified = Write("A.M.verified.txt", "old\n");
        Assert.Throws<SnapshotMismatchException>(() => ProgramSnapshot.VerifyFile("new\n", verified, ci: true, acceptRequested: true));
        Assert.Equal("old\n", File.ReadAllText(verified));
    }

    [Fact]
    public void CI_fails_on_a_missing_snapshot_and_does_not_create_it()
    {
        string verified = Path.Combine(_directory, "A.New.verified.txt");
        var e = Assert.Throws<SnapshotMissingException>(() => ProgramSnapshot.VerifyFile("text\n", verified, ci: true, acceptRequested: true));
        Assert.False(File.Exists(verified));
        Assert.Equal("text\n", File.ReadAllText(Received(verified)));
        Assert.Contains("CI never accepts", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Outside_CI_the_accept_variable_accepts_a_change_and_a_new_snapshot()
    {
        string changed = Write("A.M.verified.txt", "old\n");
        ProgramSnapshot.VerifyFile("new", changed, ci: false, acceptRequested: true);
        Assert.Equal("new\n", File.ReadAllText(changed));
        string created = Path.Combine(_directory, "A.New.verified.txt");
        ProgramSnapshot.VerifyFile("fresh\n", created, ci: false, acceptRequested: true);
        Assert.Equal("fresh\n", File.ReadAllText(created));
        Assert.False(File.Exists(Received(created)));
    }

    [Fact]
    public void Outside_CI_without_accept_a_missing_snapshot_fails()
    {
        string verified = Path.Combine(_directory, "A.New.verified.txt");
        Assert.Throws<SnapshotMissingException>(() => ProgramSnapshot.VerifyFile("text\n", verified, ci: false, acceptRequested: false));
        Assert.False(File.Exists(verified));
    }

    [Fact]
    public void A_path_not_ending_in_verified_txt_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => ProgramSnapshot.VerifyFile("x", Path.Combine(_directory, "a.txt")));
        Assert.Contains(".verified.txt", e.Message, StringComparison.Ordinal);
    }

    private string Write(string name, string text)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string Received(string verified) => verified.Replace(".verified.txt", ".received.txt", StringComparison.Ordinal);

    private static string SourceDirectory([System.Runtime.CompilerServices.CallerFilePath] string file = "") => Path.GetDirectoryName(file)!;
}
