#if canImport(Glibc)
    import Glibc
#endif

/// The target libFuzzer runs, from MM_FUZZ_TARGET (scripts/fuzz.sh sets it).
let selectedTarget: FuzzTarget = {
    let name = getenv("MM_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        complain(
            "MM_FUZZ_TARGET must be one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")) (got '\(name)')"
        )
        exit(2)
    }
    return target
}()

/// A line on standard error (file descriptor 2: the C `stderr` global is not concurrency-safe).
func complain(_ message: String) {
    let line = message + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}

#if MM_FUZZING
    /// libFuzzer's entry point.
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        selectedTarget.run(UnsafeRawBufferPointer(start: data, count: size))
        return 0
    }

    /// libFuzzer's driver, called from our own `main` (SwiftPM gives an executable its own entry
    /// point, so libFuzzer's `main` is not the one linked).
    @_silgen_name("LLVMFuzzerRunDriver")
    func runFuzzerDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    @main
    struct Fuzz {
        static func main() {
            var argc = CommandLine.argc
            var argv = CommandLine.unsafeArgv
            exit(runFuzzerDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) })
        }
    }
#else
    /// Without libFuzzer: runs every file named on the command line through the target, so that
    /// the seed corpora (and any crash a fuzzer found) replay in an ordinary build and in tests.
    @main
    struct ReplayCorpus {
        static func main() {
            var count = 0
            for path in CommandLine.arguments.dropFirst() {
                guard let file = fopen(path, "rb") else {
                    complain("cannot open \(path)")
                    exit(1)
                }
                var bytes: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 65536)
                while true {
                    let read = fread(&buffer, 1, buffer.count, file)
                    if read <= 0 { break }
                    bytes += buffer[..<read]
                }
                fclose(file)
                bytes.withUnsafeBytes { selectedTarget.run($0) }
                count += 1
            }
            print("\(selectedTarget.rawValue): \(count) inputs replayed without a crash")
        }
    }
#endif
