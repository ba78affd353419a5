from eval.latency_stats import percentile, summarise


def test_nearest_rank_percentiles_and_summary():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 51.0 and percentile(values, 95) == 95.0 and percentile(values, 100) == 100.0
    assert summarise([100.0, 300.0, 200.0]) == {"turns": 3, "p50_ms": 200.0, "p95_ms": 300.0, "max_ms": 300.0, "mean_ms": 200.0}
