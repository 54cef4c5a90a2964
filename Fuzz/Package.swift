// swift-tools-version:6.1
// libFuzzer targets for Legible's file readers. A package of its own so that the sanitizer flags reach only
// these builds: scripts/fuzz builds it with -sanitize=fuzzer,address and runs each target (docs/RELIABILITY.md).
import PackageDescription

let loaders: Target.Dependency = .product(name: "LegibleLoaders", package: "Legible")

/// One executable per file family: its main.swift hands its LLVMFuzzerTestOneInput to libFuzzer's driver.
func fuzzTarget(_ name: String) -> Target {
    .executableTarget(name: "fuzz-\(name)", dependencies: [loaders, "FuzzSupport"], path: "Sources/fuzz-\(name)")
}

let package = Package(
    name: "LegibleFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "Legible", path: "..")],
    targets: [
        .systemLibrary(name: "CLibFuzzer"),
        .target(name: "FuzzSupport", dependencies: [loaders, "CLibFuzzer"]),
        fuzzTarget("gguf"),
        fuzzTarget("safetensors"),
        fuzzTarget("tokenizer"),
        fuzzTarget("data"),
        fuzzTarget("prompt"),
        fuzzTarget("state"),
        // Writes the seed corpus: .build-fuzz/debug/make-seeds Fuzz/corpus
        .executableTarget(name: "make-seeds", dependencies: [loaders, "FuzzSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
