// Loads Gemma 3 from a GGUF file: configuration from its metadata, every tensor dequantized to float32
// into one parameter allocation, names, shapes and types checked against the layout.
import Foundation
import WeightFiles

extension Gemma3 {
    public static func load(gguf url: URL) throws -> Gemma3 {
        let file: GGUFFile
        do { file = try GGUFFile(path: url.path) } catch { throw ModelLoadError.invalidConfig("\(error)") }
        let model = try Gemma3(config: try Gemma3Config(gguf: file))
        try model.load(from: file)
        model.source = url.lastPathComponent
        return model
    }

    func load(from file: GGUFFile) throws {
        let expected = Set(layout.entries.map(\.name))
        if let stray = file.tensors.map(\.name).sorted().first(where: { !expected.contains($0) }) {
            throw ModelLoadError.unexpectedTensor(name: stray)
        }
        for entry in layout.entries {
            guard let tensor = file.tensorInfo(entry.name) else { throw ModelLoadError.missingTensor(name: entry.name) }
            guard tensor.shape == entry.shape else {
                throw ModelLoadError.wrongShape(name: entry.name, expected: entry.shape, found: tensor.shape)
            }
            do {
                try file.dequantize(tensor, into: UnsafeMutableBufferPointer(start: parameters.pointer + entry.offset, count: entry.count))
            } catch {
                throw ModelLoadError.invalidConfig("\(error)")
            }
        }
    }
}
