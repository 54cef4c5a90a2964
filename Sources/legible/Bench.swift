// `legible bench`: times the GPT-2 and Gemma 3 workloads and sgemm at their shapes, as a table or as
// JSON (the schema scripts/bench_torch.py prints too); `--profile` breaks the GPT-2 frozen step down by kernel.
import ArgumentParser
import Benchmarks
import Foundation
import Kernels

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmark the model workloads and sgemm on this machine.",
        discussion: """
            Each workload runs --warmup times untimed, then --repeats times; the median is reported with \
            GFLOP/s (GEMM FLOPs counted analytically), peak resident memory (VmHWM, reset before each \
            workload), and the share of what sgemm alone achieves on the workload's GEMM shapes. \
            The gemma3-270m workloads (\(BenchmarkSuite.gemmaCatalog.map { $0.name.replacingOccurrences(of: "gemma3-270m/", with: "") }.joined(separator: ", "))) \
            need \(GemmaBenchmarkFiles.defaultModel) or \(GemmaBenchmarkFiles.environmentKey); evaluate-600 also needs \
            data/fewshot/sst-2/16-100/test.tsv (or ../shared/data/…). qwen2.5-coder-0.5b/classify needs \
            models/qwen2.5-coder-0.5b or LEGIBLE_QWEN_GGUF. \
            scripts/bench-compare runs this beside PyTorch (and, with --llama-cpp, llama.cpp) and writes docs/BENCHMARKS.md.
            """)

    @Flag(help: "Print JSON instead of a table.") var json = false
    @Option(help: ArgumentHelp("Comma-separated workloads (default: all of \(BenchmarkSuite.defaultWorkloads.joined(separator: ","))).",
                               valueName: "names"))
    var workloads: String?
    @Option(help: "Measured runs per workload; the median is reported.") var repeats = 3
    @Option(help: "Untimed runs before measuring.") var warmup = 1
    @Option(help: "BLAS threads (default: OpenBLAS's own choice).") var threads: Int?
    @Option(help: ArgumentHelp("Precision of the models' frozen products (see legible tune --help); sgemm rows stay float32.",
                               valueName: "fp32|bf16"))
    var precision: Precision = .fp32
    @Option(help: ArgumentHelp("GPT-2 and sgemm shapes as BxT, comma-separated.", valueName: "shapes")) var shapes = "4x64,8x128"
    @Flag(help: "Instead of the workloads, break the GPT-2 frozen step down by kernel (a replay of one layer's kernels, scaled by the layer count).")
    var profile = false

    func validate() throws {
        if repeats < 1 { throw ValidationError("--repeats must be at least 1") }
        if warmup < 0 { throw ValidationError("--warmup cannot be negative") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        _ = try parsedShapes()
        let unknown = workloadList.filter { !BenchmarkSuite.knownWorkloads.contains($0) }
        if !unknown.isEmpty {
            throw ValidationError("unknown workload \(unknown.joined(separator: ", ")); known: \(BenchmarkSuite.knownWorkloads.joined(separator: ", "))")
        }
    }

    var workloadList: [String] {
        workloads.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
            ?? BenchmarkSuite.defaultWorkloads
    }

    func parsedShapes() throws -> [(B: Int, T: Int)] {
        try shapes.split(separator: ",").map { field in
            let parts = field.lowercased().split(separator: "x")
            guard parts.count == 2, let B = Int(parts[0]), let T = Int(parts[1]), B >= 1, T >= 1, T <= 1024 else {
                throw ValidationError("'\(field)' is not a shape BxT with B ≥ 1 and 1 ≤ T ≤ 1024 (GPT-2's context), e.g. 4x64")
            }
            return (B, T)
        }
    }

    func run() throws {
        let shapes = try parsedShapes()
        if profile { return try runProfile(shapes) }
        let options = BenchmarkOptions(workloads: workloadList, shapes: shapes, repeats: repeats, warmup: warmup, threads: threads,
                                       precision: precision)
        let results = try BenchmarkSuite.run(options) { event in
            switch event {
            case .preparing(let what): log("preparing \(what)")
            case .started(let workload, let B, let T): log("running \(workload) B=\(B) T=\(T)")
            case .finished: break
            case .skipped(let workload, let reason): log("skipping \(workload): \(reason)")
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(results), as: UTF8.self))
        } else {
            printTable(results)
        }
    }

    func runProfile(_ shapes: [(B: Int, T: Int)]) throws {
        if let threads { BLAS.setThreads(threads) }
        var profiles: [KernelProfile] = []
        for (B, T) in shapes {
            log("replaying the GPT-2 frozen step's kernels at B=\(B) T=\(T)")
            var profile = GPT2KernelReplay.profile(B: B, T: T, repeats: repeats, warmup: warmup)
            log("timing the real frozen step at B=\(B) T=\(T) for comparison")
            let options = BenchmarkOptions(workloads: ["gpt2-124m/frozen-step"], shapes: [(B, T)], repeats: repeats,
                                           warmup: warmup, threads: threads)
            profile.measuredStepSeconds = try BenchmarkSuite.run(options).first?.medianSeconds
            profiles.append(profile)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(profiles), as: UTF8.self))
            return
        }
        for (index, p) in profiles.enumerated() {
            if index > 0 { print("") }
            print("GPT-2 124M frozen step, B=\(p.B) T=\(p.T), \(p.threads) BLAS threads, core \(p.blasCore)")
            print("Replay: one block's kernels on scratch buffers, timed per call, block kernels scaled ×\(p.layers).")
            var rows = [["kernel", "calls", "ms/step", "share", "GFLOP/s"]]
            for k in p.kernels {
                rows.append([k.kernel, "\(k.calls)", String(format: "%.2f", k.seconds * 1000), String(format: "%.1f%%", k.share * 100),
                             k.gflops.map { String(format: "%.1f", $0 / k.seconds) } ?? "—"])
            }
            rows.append(["replay total", "", String(format: "%.2f", p.replaySeconds * 1000), "100.0%", ""])
            if let measured = p.measuredStepSeconds {
                rows.append(["measured frozen step (real model)", "", String(format: "%.2f", measured * 1000),
                             String(format: "%.1f%%", measured / p.replaySeconds * 100), ""])
            }
            printAligned(rows, rightAligned: [1, 2, 3, 4])
        }
    }

    func printTable(_ results: [BenchmarkResult]) {
        var rows = [["workload", "B", "T", "median s", "GFLOP/s", "BLAS share", "examples/s", "peak MB", "threads", "core"]]
        for r in results {
            let name = r.gemm.map { "\(r.workload) \($0)" + (r.m.map { " \($0)×\(r.n!)×\(r.k!)" } ?? "") }
                ?? r.workload + (r.precision.map { " (\($0))" } ?? "")
            rows.append([
                name, "\(r.B)", "\(r.T)", String(format: "%.4f", r.medianSeconds),
                r.gflops.map { String(format: "%.1f", $0) } ?? "—",
                r.blasShare.map { String(format: "%.0f%%", $0 * 100) } ?? "—",
                r.examplesPerSecond.map { String(format: "%.1f", $0) } ?? "—",
                r.peakResidentMB.map { String(format: "%.0f", $0) } ?? "—",
                "\(r.threads)", r.blasCore,
            ])
        }
        printAligned(rows, rightAligned: [1, 2, 3, 4, 5, 6, 7, 8])
        for r in results { if let note = r.note, r.gemm == nil { print("note: \(r.workload) B=\(r.B) T=\(r.T): \(note)") } }
    }

    func printAligned(_ rows: [[String]], rightAligned: Set<Int>) {
        let widths = rows[0].indices.map { c in rows.map { $0[c].count }.max()! }
        for row in rows {
            print(row.indices.map { c in
                let pad = String(repeating: " ", count: widths[c] - row[c].count)
                return rightAligned.contains(c) ? pad + row[c] : row[c] + pad
            }.joined(separator: "  "))
        }
    }

    func log(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
}
