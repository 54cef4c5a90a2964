// `legible tasks`: the tasks a data root holds, their splits, classes and label words, read as tuning would.
import ArgumentParser
import Foundation
import Tasks

struct Tasks: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tasks",
        abstract: "List the tasks under a data root: splits, classes, label words, examples per file.",
        discussion: """
        A task is a folder <data>/<task>/ holding one folder per split, each with train, dev and test files \
        (.tsv with a header row, .csv as pandas writes it, or .jsonl), and optionally <data>/<task>/task.json: \
        {"labels": [...], "label_words": [...], "template": "...", "manual_prompt": "...", "description": "...", \
        "text_column": "...", "label_column": "..."}. Labels in the files are integers from 0 or the names.
        """)

    @Option(help: ArgumentHelp("Data root (default data/fewshot).", valueName: "folder")) var data = TaskOptions.defaultData

    func run() throws {
        let root = URL(fileURLWithPath: data)
        let names = TaskData.tasks(in: root)
        guard !names.isEmpty else { throw CLIError("\(data) holds no task folders (<task>/<split>/train.tsv|csv|jsonl)") }
        for name in names {
            let splits = TaskData.splits(of: root.appendingPathComponent(name))
            do {
                let task = try TaskData(name: name, split: nil, root: root)
                let d = task.definition
                print("\(name)" + (d.description.map { ": \($0)" } ?? ""))
                print("  splits:      \(splits.joined(separator: ", "))")
                print("  classes:     " + zip(d.labels, d.labelWords).map { "\($0) \(String(reflecting: $1))" }.joined(separator: ", "))
                print("  examples:    \(task.data.train.count) train, \(task.data.dev.count) dev, \(task.data.test.count) test in \(task.split)")
                print("  manual:      " + (d.manualPrompt.map { String(reflecting: $0) } ?? "none"))
            } catch {
                print("\(name)\n  splits:      \(splits.joined(separator: ", "))\n  cannot be read: \(error)")
            }
        }
    }
}
