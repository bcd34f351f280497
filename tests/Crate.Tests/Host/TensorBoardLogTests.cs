using Crate.Core.Contract;
using Crate.Core.Training;
using Crate.Host.Running;
using Crate.Results;

namespace Crate.Tests.Host;

/// <summary>
/// <see cref="TensorBoardLog"/> writes through TorchSharp's SummaryWriter; the files are read back with the project's own
/// reader (<see cref="TensorBoardEvents"/>: framing and CRC-32C checked record by record), so the two implementations
/// check each other. Resume: a second log on the same folder writes a new file and only steps after those already there.
/// </summary>
public class TensorBoardLogTests
{
    [Fact]
    public void Scalars_rows_white_box_and_final_values_are_written_at_their_steps()
    {
        var dir = HostProcess.TempDir("tb-log");
        var log = TensorBoardLog.Open(dir, new ConsoleLogger(TextWriter.Null));
        for (long step = 1; step <= 4; step++)
            log.Progress(new ProgressInfo(step, 4, 1, 2.0 / step, 0.1 * step, 100, TimeSpan.Zero, null, "pretrain"));
        log.Epoch(new EpochRow(1, 4, new Dictionary<string, double> { ["train_loss"] = 0.75, ["top1"] = 12.34567891 }, "pretrain"));
        log.WhiteBox([new WhiteBoxRow(1, "Rc", "test", 40.5, 1, 8), new WhiteBoxRow(2, "Rc", "test", 38.25, 1, 8),
                      new WhiteBoxRow(1, "Rc", "test-decoder", 20, 1, 8)]);
        log.Final(new Dictionary<string, double> { ["top1"] = 12.5 }, [], dir);

        var file = Assert.Single(TensorBoardEvents.Files(dir).Select(TensorBoardEvents.Read));
        Assert.Null(file.Problem);
        Assert.Equal("brain.Event:2", file.Events[0].FileVersion);
        var points = Points(dir);
        Assert.Equal([(1L, 2f), (2, 1f), (3, 2f / 3), (4, 0.5f)], Series(points, "pretrain/step/loss"));
        Assert.Equal([(1L, 0.1f), (2, 0.2f), (3, (float)0.30000000000000004), (4, 0.4f)], Series(points, "pretrain/step/lr"));
        Assert.Equal([(4L, 0.75f)], Series(points, "pretrain/train_loss"));
        Assert.Equal([(4L, (float)12.34567891)], Series(points, "pretrain/top1"));
        Assert.Equal([(1L, 40.5f), (2, 38.25f)], Series(points, "whitebox/test/Rc"));
        Assert.Equal([(1L, 20f)], Series(points, "whitebox/test-decoder/Rc"));
        Assert.Equal([(4L, 12.5f)], Series(points, "final/top1"));
        Assert.All(file.Events.Skip(1), e => Assert.InRange(e.WallTime, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 600, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1));
    }

    [Fact]
    public void A_reopened_log_writes_a_new_file_and_only_the_steps_after_those_already_written()
    {
        var dir = HostProcess.TempDir("tb-resume");
        var first = TensorBoardLog.Open(dir, new ConsoleLogger(TextWriter.Null));
        for (long step = 1; step <= 6; step++) first.Scalar("train/step/loss", step, step);
        first.Scalar("train/top1", 50, 4);

        // The resumed attempt restarts from its checkpoint at step 4 and trains 5, 6 again, then goes on.
        var second = TensorBoardLog.Open(dir, new ConsoleLogger(TextWriter.Null));
        for (long step = 5; step <= 8; step++) second.Scalar("train/step/loss", step, step);
        second.Scalar("train/top1", 51, 4);
        second.Scalar("train/top1", 60, 8);

        Assert.Equal(2, TensorBoardEvents.Files(dir).Count);
        var points = Points(dir);
        Assert.Equal(Enumerable.Range(1, 8).Select(s => ((long)s, (float)s)), Series(points, "train/step/loss"));
        Assert.Equal([(4L, 50f), (8, 60f)], Series(points, "train/top1"));
    }

    [Fact]
    public void A_record_torn_by_a_killed_process_is_cut_off_before_the_next_attempt_writes()
    {
        var dir = HostProcess.TempDir("tb-torn");
        var first = TensorBoardLog.Open(dir, new ConsoleLogger(TextWriter.Null));
        for (long step = 1; step <= 3; step++) first.Scalar("train/step/loss", step, step);
        var path = Assert.Single(TensorBoardEvents.Files(dir));
        long whole = new FileInfo(path).Length;
        using (var stream = new FileStream(path, FileMode.Append))
            stream.Write([40, 0, 0, 0, 0, 0, 0, 0, 1, 2]);   // half a record header: the process died mid-write

        var messages = new StringWriter();
        var second = TensorBoardLog.Open(dir, new ConsoleLogger(messages));
        second.Scalar("train/step/loss", 4, 4);

        Assert.Equal(whole, new FileInfo(path).Length);
        Assert.Contains("cutting it to its", messages.ToString());
        Assert.All(TensorBoardEvents.Files(dir).Select(TensorBoardEvents.Read), f => Assert.Null(f.Problem));
        Assert.Equal([1L, 2, 3, 4], Series(Points(dir), "train/step/loss").Select(p => p.Step));
    }

    [Fact]
    public void Png_artifacts_become_images_tagged_by_their_path_and_other_files_are_left_out()
    {
        var dir = HostProcess.TempDir("tb-image");
        var png = Path.Combine(dir, "attention", "test-00000.png");
        Directory.CreateDirectory(Path.GetDirectoryName(png)!);
        var rows = new List<EpochRow> { new(1, 1, new Dictionary<string, double> { ["x"] = 1 }), new(1, 2, new Dictionary<string, double> { ["x"] = 2 }) };
        Assert.True(PlotWriter.TrainingCurves(png, [("run", rows)], "x"));
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "not an image");
        var log = TensorBoardLog.Open(dir, new ConsoleLogger(TextWriter.Null));
        log.Progress(new ProgressInfo(7, 7, 1, 1, 1, 1, TimeSpan.Zero, null));

        log.Final(new Dictionary<string, double>(),
            [new Artifact("attention", "attention/test-00000.png", ""), new Artifact("notes", "notes.txt", ""),
             new Artifact("missing", "attention/gone.png", "")], dir);

        var images = TensorBoardEvents.Files(dir).SelectMany(f => TensorBoardEvents.Read(f).Events)
            .SelectMany(e => e.Values.Where(v => v.Image is not null).Select(v => (e.Step, v.Tag, v.Image!))).ToList();
        var (step, tag, image) = Assert.Single(images);
        Assert.Equal((7L, "attention/test-00000"), (step, tag));
        Assert.Equal((PlotWriter.Width, PlotWriter.Height), (image.Width, image.Height));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], image.Encoded[..4]);
    }

    [Fact]
    public void A_failing_write_turns_the_log_off_with_a_warning_and_training_goes_on()
    {
        var blocked = Path.Combine(HostProcess.TempDir("tb-blocked"), "run");
        File.WriteAllText(blocked, "a file where the run folder should be");
        var messages = new StringWriter();
        var log = TensorBoardLog.Open(blocked, new ConsoleLogger(messages));
        log.Scalar("train/step/loss", 1, 1);
        log.Scalar("train/step/loss", 2, 2);
        Assert.Single(messages.ToString().Split('\n'), l => l.Contains("turned off for this run"));
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("1", true)]
    [InlineData("0", false)]
    [InlineData("off", false)]
    [InlineData(" False ", false)]
    public void The_environment_variable_turns_the_files_off(string? value, bool enabled)
    {
        var saved = Environment.GetEnvironmentVariable(TensorBoardLog.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(TensorBoardLog.EnvironmentVariable, value);
            Assert.Equal(enabled, TensorBoardLog.EnabledByEnvironment());
        }
        finally { Environment.SetEnvironmentVariable(TensorBoardLog.EnvironmentVariable, saved); }
    }

    /// <summary>Every scalar of every event file in <paramref name="dir"/>: (tag, step, value).</summary>
    internal static List<(string Tag, long Step, float Value)> Points(string dir) =>
        TensorBoardEvents.Files(dir).Select(TensorBoardEvents.Read)
            .SelectMany(f => f.Problem is null ? f.Events : throw new InvalidDataException($"{f.Path}: {f.Problem}"))
            .SelectMany(e => e.Values.Where(v => v.Scalar is not null).Select(v => (v.Tag, e.Step, v.Scalar!.Value)))
            .ToList();

    private static List<(long Step, float Value)> Series(List<(string Tag, long Step, float Value)> points, string tag) =>
        points.Where(p => p.Tag == tag).Select(p => (p.Step, p.Value)).ToList();
}
