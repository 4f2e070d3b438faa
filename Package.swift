// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "model-manager",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ModelManagerClient", targets: ["ModelManagerClient"]),
        .library(name: "ModelManagerCore", targets: ["ModelManagerCore"]),
        .executable(name: "model-manager", targets: ["model-manager"]),
    ],
    dependencies: [
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        // OTLP over HTTP only: the gRPC exporter would bring a second gRPC stack.
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
        .package(url: "https://github.com/ordo-one/package-benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // C libraries: module maps only (plus the shim for what Swift cannot import).
        .systemLibrary(name: "CGRPC", path: "Sources/CGRPC"),
        .systemLibrary(name: "CJWT", path: "Sources/CJWT"),
        .systemLibrary(name: "CNATS", path: "Sources/CNATS"),
        .systemLibrary(name: "CMosquitto", path: "Sources/CMosquitto"),
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        .target(
            name: "CModelServiceProto",
            path: "Generated",
            publicHeadersPath: "include",
            linkerSettings: [.linkedLibrary("protobuf-c")]
        ),

        .target(
            name: "ModelManagerCore",
            dependencies: [.product(name: "Tracing", package: "swift-distributed-tracing")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ModelManagerGRPC",
            dependencies: ["CGRPC", "ModelManagerCore"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ModelManagerWire",
            dependencies: ["CModelServiceProto", "ModelManagerCore"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ModelManagerAuth",
            dependencies: ["CJWT", "ModelManagerCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ModelManagerProviders",
            dependencies: [
                "ModelManagerCore", "ModelManagerAuth",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ModelManagerUsage",
            dependencies: [
                "ModelManagerCore", "CNATS", "CMosquitto",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ProviderEmulator",
            dependencies: [
                "ModelManagerCore", "ModelManagerAuth",
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ModelManagerServer",
            dependencies: [
                "ModelManagerCore", "ModelManagerGRPC", "ModelManagerWire", "ModelManagerAuth",
                "ModelManagerProviders", "ModelManagerUsage",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ModelManagerClient",
            dependencies: [
                "ModelManagerCore", "ModelManagerGRPC", "ModelManagerWire", "ModelManagerAuth",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "model-manager",
            dependencies: [
                "ModelManagerServer", "ModelManagerClient", "ProviderEmulator", "ModelManagerAuth", "ModelManagerCore",
                "ModelManagerProviders",
                "ModelManagerUsage", "CMalloc",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "model-manager-bench",
            dependencies: [
                "ModelManagerClient", "ModelManagerCore", "ProviderEmulator", "ModelManagerUsage", "ModelManagerServer",
                "ModelManagerAuth",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/model-manager-bench",
            swiftSettings: swiftSettings
        ),
        // The hot path's steps one at a time (`swift package benchmark`): time and allocations.
        .executableTarget(
            name: "HotPath",
            dependencies: [
                "ModelManagerCore", "ModelManagerWire", "ModelManagerAuth", "ModelManagerUsage",
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/HotPath",
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),

        // libFuzzer targets (scripts/fuzz.sh builds them with -sanitize=fuzzer,address and
        // -D MM_FUZZING); an ordinary build replays corpus files through them.
        .executableTarget(
            name: "model-manager-fuzz",
            dependencies: ["ModelManagerCore", "ModelManagerWire", "ModelManagerAuth"],
            path: "Fuzz/model-manager-fuzz",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "client-examples",
            dependencies: [
                "ModelManagerClient", "ModelManagerCore",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/client-examples",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ModelManagerTestSupport",
            dependencies: [
                "ModelManagerServer", "ModelManagerClient", "ProviderEmulator", "ModelManagerAuth",
                "ModelManagerProviders",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/ModelManagerTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ModelManagerGRPCTests",
            dependencies: ["ModelManagerGRPC", "ModelManagerCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ModelManagerUnitTests",
            dependencies: [
                "ModelManagerCore", "ModelManagerWire", "ModelManagerAuth", "ModelManagerProviders",
                "ModelManagerClient", "ModelManagerGRPC", "ModelManagerUsage",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ModelManagerUsageTests",
            dependencies: [
                "ModelManagerUsage", "ModelManagerCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ModelManagerIntegrationTests",
            dependencies: [
                "ModelManagerTestSupport", "ModelManagerServer", "ModelManagerClient", "ProviderEmulator",
                "ModelManagerProviders", "ModelManagerAuth", "ModelManagerUsage", "ModelManagerGRPC",
                "ModelManagerWire",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
