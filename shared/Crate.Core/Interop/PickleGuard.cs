using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Crate.Core.Interop;

/// <summary>
/// Checks a <c>torch.save</c> zip archive before TorchSharp.PyBridge unpickles it. PyBridge's unpickler
/// (Razorvine.Pickle) cannot run Python, but it turns any global it does not know into a dictionary and trusts
/// every size it reads, so a hostile or damaged file could name <c>os.system</c> unnoticed or make it allocate
/// gigabytes. This walks the opcodes of <c>data.pkl</c> with a small stack machine and refuses, by name, any
/// global other than the tensor-rebuilding ones (<see cref="AllowedGlobals"/>), any opcode a state_dict never
/// uses, a storage larger than its archive entry, and a tensor that reaches beyond its storage.
/// </summary>
public static class PickleGuard
{
    /// <summary>The globals a state_dict pickle may name: the tensor rebuilders, OrderedDict and the storage types.</summary>
    public static readonly IReadOnlySet<string> AllowedGlobals = new HashSet<string>(
        new[] { "collections.OrderedDict", "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter" }
            .Concat(StorageElementSize().Keys.Select(s => "torch." + s)), StringComparer.Ordinal);

    private const long MaxPickleBytes = 64L << 20;

    /// <summary>Throws <see cref="CheckpointFormatException"/> when <paramref name="path"/> is not a plain state_dict archive.</summary>
    public static void Check(string path)
    {
        try
        {
            using var archive = ZipFile.OpenRead(path);
            var pickle = archive.Entries.FirstOrDefault(e => e.Name.EndsWith("data.pkl", StringComparison.Ordinal))
                ?? throw new CheckpointFormatException(path, "the torch.save archive has no data.pkl.");
            if (pickle.Length > MaxPickleBytes)
                throw new CheckpointFormatException(path, $"data.pkl is {pickle.Length} bytes, more than a state_dict's pickle ({MaxPickleBytes} at most).");
            var bytes = new byte[pickle.Length];
            using (var stream = pickle.Open())
                if (Crate.Core.Data.DataFiles.ReadUpTo(stream, bytes) != bytes.Length)
                    throw new CheckpointFormatException(path, "data.pkl is shorter than its zip entry says.");
            var entries = archive.Entries.ToList();
            long? EntryLength(string key) =>
                entries.FirstOrDefault(f => f.FullName.EndsWith("data/" + key, StringComparison.Ordinal))?.Length;
            new Machine(path, bytes, EntryLength).Run();
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointFormatException(path, $"not a readable zip archive ({e.Message}).", e);
        }
    }

    private static Dictionary<string, int> StorageElementSize() => new(StringComparer.Ordinal)
    {
        ["DoubleStorage"] = 8, ["FloatStorage"] = 4, ["HalfStorage"] = 2, ["LongStorage"] = 8, ["IntStorage"] = 4,
        ["ShortStorage"] = 2, ["CharStorage"] = 1, ["ByteStorage"] = 1, ["BoolStorage"] = 1, ["BFloat16Storage"] = 2,
        ["ComplexDoubleStorage"] = 16, ["ComplexFloatStorage"] = 8,
    };

    // Values the machine tracks; everything else is Other.
    private abstract record Value;
    private sealed record Str(string S) : Value;
    private sealed record Int(long I) : Value;
    private sealed record Global(string Module, string Name) : Value;
    private sealed record Tuple(IReadOnlyList<Value> Items) : Value;
    private sealed record Storage(long Elements) : Value;
    private sealed record Other : Value { public static readonly Other Instance = new(); }
    private sealed record Mark : Value { public static readonly Mark Instance = new(); }

    private sealed class Machine(string path, byte[] code, Func<string, long?> entryLength)
    {
        private static readonly Dictionary<string, int> ElementSize = StorageElementSize();
        private readonly List<Value> _stack = [];
        private readonly Dictionary<long, Value> _memo = [];
        private int _at;

        public void Run()
        {
            while (true)
            {
                if (_at >= code.Length) throw Bad("ends without a STOP opcode");
                int position = _at;
                byte op = code[_at++];
                switch (op)
                {
                    case 0x80: Take(1); break;                                          // PROTO
                    case 0x95: Take(8); break;                                          // FRAME
                    case (byte)'(': Push(Mark.Instance); break;                          // MARK
                    case (byte)'c': Push(CheckGlobal(Line(), Line())); break;           // GLOBAL
                    case 0x93:                                                           // STACK_GLOBAL
                    {
                        var name = Pop(); var module = Pop();
                        if (module is not Str m || name is not Str n) throw Bad($"STACK_GLOBAL at byte {position} names its global with computed values");
                        Push(CheckGlobal(m.S, n.S));
                        break;
                    }
                    case (byte)'q': _memo[Take(1)[0]] = Top(); break;                   // BINPUT
                    case (byte)'r': _memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(4))] = Top(); break;   // LONG_BINPUT
                    case 0x94: _memo[_memo.Count] = Top(); break;                       // MEMOIZE
                    case (byte)'h': Push(Memo(Take(1)[0])); break;                      // BINGET
                    case (byte)'j': Push(Memo(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break;      // LONG_BINGET
                    case (byte)'}': case (byte)']': case (byte)'N': case 0x88: case 0x89: Push(Other.Instance); break;
                    case (byte)')': Push(new Tuple([])); break;                          // EMPTY_TUPLE
                    case (byte)'G': Take(8); Push(Other.Instance); break;               // BINFLOAT
                    case (byte)'X': Push(Text(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break;      // BINUNICODE
                    case 0x8c: Push(Text(Take(1)[0])); break;                           // SHORT_BINUNICODE
                    case 0x8d: Push(Text(BinaryPrimitives.ReadUInt64LittleEndian(Take(8)))); break;          // BINUNICODE8
                    case (byte)'J': Push(new Int(BinaryPrimitives.ReadInt32LittleEndian(Take(4)))); break;   // BININT
                    case (byte)'K': Push(new Int(Take(1)[0])); break;                   // BININT1
                    case (byte)'M': Push(new Int(BinaryPrimitives.ReadUInt16LittleEndian(Take(2)))); break;  // BININT2
                    case 0x8a: Push(Long(Take(Take(1)[0]))); break;                     // LONG1
                    case (byte)'t': Push(new Tuple(PopToMark())); break;                // TUPLE
                    case 0x85: case 0x86: case 0x87:                                     // TUPLE1..3
                    {
                        var items = new Value[op - 0x84];
                        for (int i = items.Length - 1; i >= 0; i--) items[i] = Pop();
                        Push(new Tuple(items));
                        break;
                    }
                    case (byte)'l': case (byte)'d': PopToMark(); Push(Other.Instance); break;   // LIST, DICT
                    case (byte)'s': Pop(); Pop(); Top(); break;                          // SETITEM
                    case (byte)'u': case (byte)'e': PopToMark(); Top(); break;          // SETITEMS, APPENDS
                    case (byte)'a': Pop(); Top(); break;                                 // APPEND
                    case (byte)'b': Pop(); Top(); break;                                 // BUILD
                    case (byte)'0': Pop(); break;                                        // POP
                    case (byte)'1': PopToMark(); break;                                  // POP_MARK
                    case (byte)'2': Push(Top()); break;                                  // DUP
                    case (byte)'Q': Push(CheckStorage(Pop(), position)); break;         // BINPERSID
                    case (byte)'R': case 0x81:                                           // REDUCE, NEWOBJ
                    {
                        var args = Pop(); var callable = Pop();
                        Push(Call(callable, args, position));
                        break;
                    }
                    case (byte)'.':                                                      // STOP
                        if (_stack.Count != 1) throw Bad($"STOP at byte {position} leaves {_stack.Count} values on the stack");
                        return;
                    default:
                        throw Bad($"opcode 0x{op:X2} at byte {position} is not one a state_dict pickle uses");
                }
            }
        }

        private Value CheckGlobal(string module, string name)
        {
            string full = module + "." + name;
            if (!AllowedGlobals.Contains(full))
                throw new CheckpointFormatException(path,
                    $"its pickle names the global '{full}', which is not one of the tensor-rebuilding globals a state_dict uses; " +
                    "the file was refused without loading it.");
            return new Global(module, name);
        }

        /// <summary>A persistent id ('storage', torch.XStorage, key, location, elements): the elements must fit the archive entry.</summary>
        private Storage CheckStorage(Value pid, int position)
        {
            if (pid is not Tuple { Items: [Str { S: "storage" }, Global type, Str key, Str, Int elements] })
                throw Bad($"persistent id at byte {position} is not a tensor storage");
            int size = ElementSize[type.Name];
            long? available = entryLength(key.S);
            if (available is null) throw Bad($"storage '{key.S}' has no data/{key.S} entry in the archive");
            if (elements.I < 0 || elements.I > available / size)
                throw Bad($"storage '{key.S}' declares {elements.I} elements of {size} bytes; its archive entry holds {available} bytes");
            return new Storage(elements.I);
        }

        /// <summary>_rebuild_tensor(_v2)(storage, offset, size, stride, ...): the view must lie inside the storage.</summary>
        private Value Call(Value callable, Value args, int position)
        {
            if (callable is Global { Module: "torch._utils", Name: "_rebuild_tensor" or "_rebuild_tensor_v2" } &&
                args is Tuple { Items: [Storage storage, Int offset, Tuple size, Tuple stride, ..] })
            {
                if (size.Items.Count != stride.Items.Count || size.Items.Concat(stride.Items).Any(v => v is not Int { I: >= 0 }))
                    throw Bad($"tensor at byte {position} has a malformed size {Show(size)} or stride {Show(stride)}");
                // In doubles: no overflow, and exact enough for a bound.
                double count = 1, extent = offset.I;
                for (int d = 0; d < size.Items.Count; d++)
                {
                    long n = ((Int)size.Items[d]).I, s = ((Int)stride.Items[d]).I;
                    count *= n;
                    if (n > 0) extent += (n - 1) * (double)s;
                }
                if (offset.I < 0 || (count > 0 && (extent >= storage.Elements || count > Math.Max(storage.Elements, 1))))
                    throw Bad($"tensor at byte {position} of size {Show(size)}, stride {Show(stride)} and offset {offset.I} reaches beyond its storage of {storage.Elements} elements");
            }
            else if (callable is not Global)
                throw Bad($"byte {position} calls something that is not an allowed global");
            return Other.Instance;
        }

        private static string Show(Tuple t) => "(" + string.Join(", ", t.Items.Select(v => v is Int i ? i.I.ToString() : "?")) + ")";

        private ReadOnlySpan<byte> Take(long count)
        {
            if (count < 0 || count > code.Length - _at) throw Bad($"an opcode at byte {_at - 1} reaches past the end of the pickle");
            var span = code.AsSpan(_at, (int)count);
            _at += (int)count;
            return span;
        }

        private string Line()
        {
            int end = Array.IndexOf(code, (byte)'\n', _at);
            if (end < 0) throw Bad("a GLOBAL name is not terminated");
            string line = Encoding.ASCII.GetString(code, _at, end - _at);
            _at = end + 1;
            return line;
        }

        private Str Text(ulong length)
        {
            if (length > (ulong)(code.Length - _at)) throw Bad($"a string at byte {_at} is longer than the pickle");
            try { return new Str(new UTF8Encoding(false, true).GetString(Take((long)length))); }
            catch (DecoderFallbackException) { throw Bad($"a string at byte {_at} is not UTF-8"); }
        }

        private static Value Long(ReadOnlySpan<byte> bytes) =>
            bytes.Length <= 8 ? new Int(bytes.Length == 0 ? 0 : (long)new System.Numerics.BigInteger(bytes, isUnsigned: false, isBigEndian: false)) : Other.Instance;

        private Value Memo(long key) => _memo.TryGetValue(key, out var v) ? v : throw Bad($"memo entry {key} is read before it is written");

        private void Push(Value v) => _stack.Add(v);

        private Value Top() => _stack.Count > 0 && _stack[^1] is not Mark ? _stack[^1] : throw Bad($"stack underflow at byte {_at - 1}");

        private Value Pop()
        {
            var v = Top();
            _stack.RemoveAt(_stack.Count - 1);
            return v;
        }

        private List<Value> PopToMark()
        {
            int mark = _stack.FindLastIndex(v => v is Mark);
            if (mark < 0) throw Bad($"no MARK before byte {_at - 1}");
            var items = _stack.GetRange(mark + 1, _stack.Count - mark - 1);
            _stack.RemoveRange(mark, _stack.Count - mark);
            return items;
        }

        private CheckpointFormatException Bad(string cause) => new(path, $"its pickle is malformed or unsafe: {cause}.");
    }
}
