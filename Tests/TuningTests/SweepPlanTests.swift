// Sweep plans: the grid expands to every combination once with stable ids, the configuration file is read
// strictly, a sweep refuses a different plan, and shards partition the runs.
import Foundation
import Reports
import Runs
import Sweeps
import Tasks
import Testing
import Tuning

func sweepConfiguration(_ json: String) throws -> SweepConfiguration {
    try SweepConfiguration.decode(Data(json.utf8))
}

func temporaryFolder(_ name: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("legible-\(name)-\(UUID().uuidString)")
}

struct SweepPlanTests {
    static let grid = """
    {"model": "models/gemma-3-270m", "methods": ["pez", "soft"], "tasks": ["sst-2"], "data": "data/fewshot",
     "splits": ["16-100", "16-13"], "scrutability": [0, 0.1, 0.5], "faithfulness": [0, 1], "prompt_lengths": [5, 10],
     "seeds": [0, 1], "steps": 300, "batch": 8, "lr": 0.05, "test_limit": 100, "eval_every": 5}
    """

    @Test func expandsEveryCombinationOnceWithStableIds() throws {
        let config = try sweepConfiguration(Self.grid)
        let plan = try SweepPlan(config)
        #expect(plan.runs.count == 2 * 3 * 2 * 1 * 2 * 2 * 2)
        let cells = plan.runs.map { "\($0.method) \($0.scrutability) \($0.faithfulness) \($0.task) \($0.split) \($0.promptLength) \($0.seed)" }
        #expect(Set(cells).count == plan.runs.count)
        var expected: Set<String> = []
        for m in ["pez", "soft"] { for l in [0, 0.1, 0.5] as [Float] { for g in [0, 1] as [Float] { for s in ["16-100", "16-13"] {
            for n in [5, 10] { for seed in 0...1 { expected.insert("\(m) \(l) \(g) sst-2 \(s) \(n) \(seed)") } } } } } }
        #expect(Set(cells) == expected)

        #expect(plan.runs.map(\.index) == Array(0..<96))
        #expect(plan.runs.map(\.id) == (0..<96).map { String(format: "%04d", $0) })
        #expect(Set(plan.runs.map(\.directory)).count == 96)
        #expect(plan.runs.allSatisfy { $0.directory.hasPrefix("runs/\($0.id)-") })
        // Seeds vary fastest, methods slowest.
        #expect(plan.runs[0].directory == "runs/0000-pez-sst-2-16-100-l0-g0-n5-s0")
        #expect(plan.runs[1].directory == "runs/0001-pez-sst-2-16-100-l0-g0-n5-s1")
        #expect(plan.runs[2].promptLength == 10 && plan.runs[4].split == "16-13" && plan.runs[8].faithfulness == 1)
        #expect(plan.runs[16].scrutability == 0.1 && plan.runs[16].directory.contains("-l0.1-"))
        #expect(plan.runs[48].method == .soft && plan.runs[47].method == .pez)

        for run in plan.runs {
            let t = run.tuning
            #expect(t.method == run.method && t.scrutability == run.scrutability && t.faithfulness == run.faithfulness)
            #expect(t.promptLength == run.promptLength && t.seed == run.seed)
            #expect(t.steps == 300 && t.batchSize == 8 && t.learningRate == 0.05 && t.evaluateEvery == 5)
        }
        // The same configuration always gives the same plan, and plan.json reads back as written.
        #expect(try SweepPlan(sweepConfiguration(Self.grid)) == plan)
        let encoded = try JSONEncoder().encode(plan)
        #expect(try JSONDecoder().decode(SweepPlan.self, from: encoded) == plan)
        #expect(plan.configuration.testLimit == 100)
    }

    @Test func missingKeysTakeTheTuneDefaults() throws {
        let plan = try SweepPlan(sweepConfiguration(#"{"model": "m"}"#))
        #expect(plan.runs.count == 1)
        let run = plan.runs[0]
        #expect(run.task == "sst-2" && run.split == "16-100" && run.directory == "runs/0000-pez-sst-2-16-100-l0-g0-n10-s0")
        #expect(run.tuning == TuningConfiguration())
        #expect(plan.configuration.data == "data/fewshot" && plan.configuration.templateText(for: .pez) == TaskTemplate.pez)
        #expect(plan.configuration.testLimit == nil && plan.configuration.testRows == .spread)
        #expect(try sweepConfiguration(#"{"model": "m", "test_limit": 600, "test_rows": "first"}"#).testRows == .first)
        // A single value stands for a list of one.
        let single = try sweepConfiguration(#"{"model": "m", "scrutability": 0.5, "methods": "soft", "seeds": 3}"#)
        #expect(single.scrutability == [0.5] && single.methods == [.soft] && single.seeds == [3])
        #expect(try sweepConfiguration(#"{"model": "m", "template": "rlprompt"}"#).templateText(for: .pez) == TaskTemplate.rlprompt)
    }

    @Test func rlpromptRunsTakeRLPromptsDefaultsAndOptions() throws {
        let plan = try SweepPlan(sweepConfiguration(#"{"model": "m", "methods": ["pez", "rlprompt"], "fluent_top_k": 20, "lr": 0.5}"#))
        let (pez, rl) = (plan.runs[0].tuning, plan.runs[1].tuning)
        #expect(pez.learningRate == 0.5 && rl.learningRate == 0.5)  // given: both
        #expect(pez.maxGradientNorm == 1 && rl.maxGradientNorm == 5 && rl.weightDecay == 0)  // not given: each method's own
        #expect(rl.policy.fluentTopK == 20 && pez.policy.fluentTopK == nil)
        #expect(plan.configuration.templateText(for: .rlprompt) == TaskTemplate.rlprompt)
        #expect(plan.configuration.templateText(for: .pez) == TaskTemplate.pez)
        #expect(throws: SweepError.self) { try sweepConfiguration(#"{"model": "m", "samples_per_step": 1}"#).validate() }
    }

    @Test func gcgRunsTakeTheSearchOptionsAndEveryMethodTheSharedOnes() throws {
        let plan = try SweepPlan(sweepConfiguration(#"""
            {"model": "m", "methods": ["pez", "gcg"], "prompt_lengths": 5, "candidates": 32, "candidates_per_position": 16,
             "edit_budget": "3:1", "trajectory": 4, "repetition_penalty": 2, "fluency_gradient": "context", "select": "dev-loss"}
            """#))
        let (pez, gcg) = (plan.runs[0].tuning, plan.runs[1].tuning)
        #expect(gcg.search.candidates == 32 && gcg.search.candidatesPerPosition == 16 && gcg.search.trajectory == 4)
        #expect(gcg.search.editBudget == EditBudget(maximum: 3, minimum: 1) && gcg.search.repetitionPenalty == 2)
        #expect(pez.search == SearchConfiguration())  // the search's options are gcg's alone
        #expect(pez.fluencyGradient == .context && pez.selection == .devLoss && gcg.selection == .devLoss)
        #expect(plan.configuration.templateText(for: .gcg) == TaskTemplate.rlprompt)
        for bad in [#"{"model": "m", "edit_budget": "1:3"}"#, #"{"model": "m", "candidates": 0}"#, #"{"model": "m", "trajectory": -1}"#] {
            #expect(throws: SweepError.self) { try sweepConfiguration(bad).validate() }
        }
        #expect(throws: SweepError.self) { try sweepConfiguration(#"{"model": "m", "fluency_gradient": "both"}"#) }
        #expect(throws: SweepError.self) { try sweepConfiguration(#"{"model": "m", "select": "best"}"#) }
        // A configuration round-trips through plan.json with the new keys.
        let again = try SweepConfiguration.decode(JSONEncoder().encode(plan.configuration))
        #expect(again == plan.configuration)
    }

    @Test func unknownKeysAndBadValuesAreRejectedByName() throws {
        #expect(throws: SweepError.unknownKey("stepz", known: SweepConfiguration.keys)) {
            try sweepConfiguration(#"{"model": "m", "stepz": 3}"#)
        }
        do {
            _ = try sweepConfiguration(#"{"model": "m", "scrutability": [0, 0.1], "prompt_length": [10]}"#)
            Issue.record("an unknown key was accepted")
        } catch {
            #expect("\(error)".contains("'prompt_length'") && "\(error)".contains("prompt_lengths"))
        }
        let cases: [(String, String)] = [
            (#"{"methods": ["pez"]}"#, "model"),
            (#"{"model": "m", "steps": "ten"}"#, "steps"),
            (#"{"model": "m", "scrutability": [0, "x"]}"#, "scrutability[1]"),
            (#"{"model": "m", "methods": ["pez", "gradient"]}"#, "gradient"),
            (#"{"model": "m", "metric": "manhattan"}"#, "manhattan"),
            (#"{"model": "m", "model": "#, "JSON"),
        ]
        for (json, message) in cases {
            do {
                _ = try sweepConfiguration(json)
                Issue.record("\(json) was accepted")
            } catch {
                #expect("\(error)".contains(message), "\(json): \(error)")
            }
        }
        let invalid: [(String, String)] = [
            (#"{"model": "m", "scrutability": [0, 0.1, 0]}"#, "listed twice"),
            (#"{"model": "m", "scrutability": [-1]}"#, "scrutability"),
            (#"{"model": "m", "tasks": ["imdb"]}"#, "no task 'imdb' in data/fewshot"),
            (#"{"model": "m", "splits": []}"#, "at least one"),
            (#"{"model": "m", "prompt_lengths": [0]}"#, "prompt_lengths"),
            (#"{"model": "m", "steps": -1}"#, "steps"),
            (#"{"model": "m", "template": "{sentence} only"}"#, "template"),
            (#"{"model": "m", "verbalizers": [" good"]}"#, "verbalizers"),
            (#"{"model": "m", "initialization": "zeros"}"#, "initialization"),
        ]
        for (json, message) in invalid {
            do {
                _ = try SweepPlan(sweepConfiguration(json))
                Issue.record("\(json) was accepted")
            } catch {
                #expect("\(error)".contains(message), "\(json): \(error)")
            }
        }
    }

    /// Every run of a sweep takes one precision; a float32 plan's file is what it was before the key existed, so
    /// sweeps planned then still match their configuration.
    @Test func precisionIsReadCheckedAndWrittenOnlyWhenNotFloat32() throws {
        let float32 = try sweepConfiguration(#"{"model": "m"}"#)
        #expect(float32.precision == .fp32)
        #expect(try sweepConfiguration(#"{"model": "m", "precision": "fp32"}"#) == float32)
        let bfloat16 = try sweepConfiguration(#"{"model": "m", "precision": "bf16"}"#)
        #expect(bfloat16.precision == .bf16)
        let json = { (c: SweepConfiguration) in String(decoding: try JSONEncoder.sortedKeys.encode(c), as: UTF8.self) }
        #expect(try !json(float32).contains("precision") && json(bfloat16).contains(#""precision":"bf16""#))
        #expect(try SweepConfiguration.decode(Data(json(bfloat16).utf8)) == bfloat16)
        #expect(bfloat16.differences(from: float32) == ["precision"])
        #expect(throws: SweepError.invalidValue(key: "precision", reason: "unknown precision 'fp16'; known: fp32, bf16")) {
            try sweepConfiguration(#"{"model": "m", "precision": "fp16"}"#)
        }
    }

    @Test func aGridTooLargeToHoldIsRefusedBeforeItIsBuilt() throws {
        let thousand = (0..<1000).map(String.init).joined(separator: ",")
        let json = "{\"model\": \"m\", \"seeds\": [\(thousand)], \"scrutability\": [\(thousand)]}"
        #expect(throws: SweepError.invalidValue(key: "configuration", reason: "the grid holds 1000000 runs; a sweep is limited to 100000 (split it into several)")) {
            try SweepPlan(sweepConfiguration(json))
        }
    }

    @Test func replanningWithAnotherConfigurationIsRefused() throws {
        let folder = temporaryFolder("sweep-plan")
        let sweep = SweepDirectory(folder)
        let plan = try SweepPlan(sweepConfiguration(Self.grid))
        #expect(try sweep.create(plan))
        let written = try Data(contentsOf: sweep.planFile)
        #expect(try sweep.loadPlan() == plan)
        // The same configuration, even written differently, is accepted and changes nothing.
        var same = plan.configuration
        same.testLimit = 100
        #expect(try sweep.create(SweepPlan(same)) == false)
        var other = plan.configuration
        other.steps = 301
        other.scrutability = [0, 0.1, 0.5, 1]
        #expect(throws: SweepError.planDiffers(folder.path, keys: ["scrutability", "steps"])) { try sweep.create(SweepPlan(other)) }
        #expect(try Data(contentsOf: sweep.planFile) == written)
        #expect(throws: SweepError.noPlan(folder.appendingPathComponent("none").path)) {
            try SweepDirectory(folder.appendingPathComponent("none")).loadPlan()
        }
    }

    @Test func shardsPartitionTheRuns() throws {
        for count in [0, 1, 2, 5, 12, 13, 96] {
            let indices = Array(0..<count)
            for n in 1...7 {
                let shards = try (0..<n).map { try SweepShard(index: $0, count: n) }
                for i in indices { #expect(shards.filter { $0.contains(i) }.count == 1, "run \(i), \(n) shards") }
                #expect(shards.map { s in indices.filter { s.contains($0) }.count }.reduce(0, +) == count)
                // Balanced: shard sizes differ by at most one.
                let sizes = shards.map { s in indices.filter { s.contains($0) }.count }
                #expect((sizes.max() ?? 0) - (sizes.min() ?? 0) <= 1)
            }
        }
        let plan = try SweepPlan(sweepConfiguration(Self.grid))
        for n in [1, 3, 4, 7] {
            let parts = try (0..<n).map { plan.runs(in: try SweepShard(parsing: "\($0)/\(n)")) }
            #expect(parts.flatMap { $0 }.map(\.index).sorted() == Array(0..<plan.runs.count))
            #expect(parts[0].map(\.index).allSatisfy { $0 % n == 0 })
        }
        #expect(plan.runs(in: .all) == plan.runs)
        #expect(try SweepShard(parsing: "2/4") == SweepShard(index: 2, count: 4))
        for bad in ["4/4", "-1/2", "a/b", "1/0", "1", "1/2/3", ""] {
            #expect(throws: SweepError.invalidShard(bad)) { try SweepShard(parsing: bad) }
        }
    }
}
