import ModelManagerCore
import ModelManagerUsage

/// A reservation kept with an asynchronous task, so that whichever instance finishes the task
/// settles it on the windows it was counted in.
extension QuotaGate.Reservation {
    var json: JSONValue {
        [
            "org_id": .string(orgID),
            "reserved": [
                "calls": .integer(reserved.calls), "tokens": .integer(reserved.tokens), "cost": .double(reserved.cost),
            ],
            "windows": .array(
                windows.map { window in
                    [
                        "kind": .string(window.subject.kind.rawValue), "id": .string(window.subject.id),
                        "period": .string(window.period.rawValue), "key": .string(window.key),
                        "limits": .object(
                            Dictionary(
                                uniqueKeysWithValues: window.limits.map {
                                    ($0.key.rawValue, JSONValue.double($0.value))
                                })),
                    ]
                }),
        ]
    }

    init?(json: JSONValue) {
        guard let orgID = json["org_id"]?.stringValue, let reserved = json["reserved"],
            let windows = json["windows"]?.arrayValue
        else { return nil }
        var parsed: [QuotaStore.Window] = []
        for window in windows {
            guard let kind = window["kind"]?.stringValue.flatMap(QuotaSubject.Kind.init(rawValue:)),
                let id = window["id"]?.stringValue,
                let period = window["period"]?.stringValue.flatMap(Quota.Period.init(rawValue:)),
                let key = window["key"]?.stringValue
            else { return nil }
            var limits: [Quota.Metric: Double] = [:]
            for (name, value) in window["limits"]?.objectValue ?? [:] {
                if let metric = Quota.Metric(rawValue: name), let limit = value.doubleValue { limits[metric] = limit }
            }
            parsed.append(
                QuotaStore.Window(subject: QuotaSubject(kind: kind, id: id), period: period, key: key, limits: limits))
        }
        self.init(
            windows: parsed,
            reserved: QuotaAmounts(
                calls: reserved["calls"]?.integerValue ?? 0, tokens: reserved["tokens"]?.integerValue ?? 0,
                cost: reserved["cost"]?.doubleValue ?? 0),
            orgID: orgID, rateLimitHeaders: [])
    }
}
