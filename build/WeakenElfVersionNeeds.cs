// MSBuild inline task (build/TorchNative.targets). Marks too-new GLIBCXX version needs of an ELF64
// shared library weak when only allow-listed symbols use them; fails the build otherwise.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class WeakenElfVersionNeeds : Task
{
    [Required] public ITaskItem[] Files { get; set; }
    [Required] public string AllowedSymbols { get; set; }

    // Newest versions that Debian 12 (glibc 2.36, GCC 12 libstdc++) provides.
    static readonly Dictionary<string, int> Newest = new Dictionary<string, int>
    {
        ["GLIBCXX_3.4."] = 30, ["CXXABI_1.3."] = 13, ["GLIBC_2."] = 36,
    };

    const ushort VerFlgWeak = 2;

    public override bool Execute()
    {
        var allowed = new HashSet<string>(AllowedSymbols.Split(new[] { ';', ',' }, StringSplitOptions.RemoveEmptyEntries));
        foreach (var item in Files)
        {
            try { Patch(item.ItemSpec, allowed); }
            catch (Exception e) { Log.LogError("Cannot patch {0}: {1}", item.ItemSpec, e.Message); }
        }
        return !Log.HasLoggedErrors;
    }

    void Patch(string path, HashSet<string> allowed)
    {
        byte[] b = File.ReadAllBytes(path);
        if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F' || b[4] != 2 || b[5] != 1)
            throw new InvalidDataException("not a little-endian ELF64 file");
        long shoff = BitConverter.ToInt64(b, 0x28);
        int shentsize = BitConverter.ToUInt16(b, 0x3A), shnum = BitConverter.ToUInt16(b, 0x3C);
        var sections = Enumerable.Range(0, shnum).Select(i => (long)(shoff + (long)i * shentsize)).Select(h => new
        {
            Type = BitConverter.ToUInt32(b, (int)h + 4),
            Offset = BitConverter.ToInt64(b, (int)h + 24),
            Size = BitConverter.ToInt64(b, (int)h + 32),
            Link = BitConverter.ToInt32(b, (int)h + 40),
            Info = BitConverter.ToInt32(b, (int)h + 44),
        }).ToList();
        var verneed = sections.FirstOrDefault(s => s.Type == 0x6ffffffe);
        var versym = sections.FirstOrDefault(s => s.Type == 0x6fffffff);
        var dynsym = sections.FirstOrDefault(s => s.Type == 11);
        if (verneed == null || versym == null || dynsym == null) throw new InvalidDataException("no symbol version sections");
        long dynstr = sections[verneed.Link].Offset, symstr = sections[dynsym.Link].Offset;

        // version index -> symbols that need it
        var users = new Dictionary<int, List<string>>();
        int nsym = (int)(dynsym.Size / 24);
        for (int i = 1; i < nsym; i++)
        {
            int ver = BitConverter.ToUInt16(b, (int)(versym.Offset + 2 * i)) & 0x7fff;
            if (ver < 2) continue;
            string name = CString(b, symstr + BitConverter.ToUInt32(b, (int)(dynsym.Offset + 24 * i)));
            if (!users.TryGetValue(ver, out var list)) users[ver] = list = new List<string>();
            list.Add(name);
        }

        bool changed = false;
        long vn = verneed.Offset;
        for (int n = 0; n < verneed.Info; n++)
        {
            int cnt = BitConverter.ToUInt16(b, (int)vn + 2);
            long aux = vn + BitConverter.ToUInt32(b, (int)vn + 8);
            for (int a = 0; a < cnt; a++)
            {
                ushort flags = BitConverter.ToUInt16(b, (int)aux + 4);
                int other = BitConverter.ToUInt16(b, (int)aux + 6);
                string version = CString(b, dynstr + BitConverter.ToUInt32(b, (int)aux + 8));
                if (TooNew(version))
                {
                    var syms = users.TryGetValue(other, out var l) ? l : new List<string>();
                    var bad = syms.Where(s => !allowed.Contains(s)).ToList();
                    if (bad.Count > 0)
                        throw new InvalidDataException($"{Path.GetFileName(path)} needs {version} for {string.Join(", ", bad)}; " +
                            "marking it weak is not safe. This TorchSharp release needs a newer libstdc++/glibc than Debian 12 has: " +
                            "pin the previous TorchSharp or run on a newer distribution (README, Troubleshooting).");
                    if ((flags & VerFlgWeak) == 0)
                    {
                        flags |= VerFlgWeak;
                        b[aux + 4] = (byte)flags; b[aux + 5] = (byte)(flags >> 8);
                        changed = true;
                        Log.LogMessage(MessageImportance.Normal, "{0}: marked {1} weak (used only by {2})", path, version, string.Join(", ", syms));
                    }
                }
                aux += BitConverter.ToUInt32(b, (int)aux + 12);
            }
            uint next = BitConverter.ToUInt32(b, (int)vn + 12);
            if (next == 0) break;
            vn += next;
        }
        if (changed)
        {
            // Replace rather than rewrite in place: the output copy may be a hard link into the NuGet cache.
            string tmp = path + ".patching";
            File.WriteAllBytes(tmp, b);
            File.Delete(path);
            File.Move(tmp, path);
        }
    }

    static bool TooNew(string version)
    {
        foreach (var kv in Newest)
            if (version.StartsWith(kv.Key, StringComparison.Ordinal)
                && int.TryParse(version.Substring(kv.Key.Length), out int minor) && minor > kv.Value)
                return true;
        return false;
    }

    static string CString(byte[] b, long at)
    {
        int end = (int)at;
        while (b[end] != 0) end++;
        return Encoding.ASCII.GetString(b, (int)at, end - (int)at);
    }
}
