#include "controller/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "controller/log.h"

namespace arca::controller {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(RegistryTest, RendersCountersGaugesAndHistogramsInTheTextFormat) {
  Registry r;
  r.Declare("x_total", Registry::Type::kCounter, "Things done", {"schedule"});
  r.Declare("y", Registry::Type::kGauge, "A level\nwith a newline", {});
  r.Declare("d_seconds", Registry::Type::kHistogram, "Durations", {"schedule"}, {1, 5});
  r.Add("x_total", {"nightly"}, 1);
  r.Add("x_total", {"nightly"}, 2);
  r.Add("x_total", {"a\"b\\c\nd"}, 1);
  r.Set("y", {}, 0.25);
  r.Observe("d_seconds", {""}, 0.5);
  r.Observe("d_seconds", {""}, 3);
  r.Observe("d_seconds", {""}, 7);
  EXPECT_EQ(r.Render(),
            "# HELP d_seconds Durations\n"
            "# TYPE d_seconds histogram\n"
            "d_seconds_bucket{schedule=\"\",le=\"1\"} 1\n"
            "d_seconds_bucket{schedule=\"\",le=\"5\"} 2\n"
            "d_seconds_bucket{schedule=\"\",le=\"+Inf\"} 3\n"
            "d_seconds_sum{schedule=\"\"} 10.5\n"
            "d_seconds_count{schedule=\"\"} 3\n"
            "# HELP x_total Things done\n"
            "# TYPE x_total counter\n"
            "x_total{schedule=\"a\\\"b\\\\c\\nd\"} 1\n"
            "x_total{schedule=\"nightly\"} 3\n"
            "# HELP y A level\\nwith a newline\n"
            "# TYPE y gauge\n"
            "y 0.25\n");
  EXPECT_EQ(r.Value("x_total", {"nightly"}), 3);
  EXPECT_EQ(r.Value("d_seconds", {""}), 3);
  EXPECT_EQ(r.Value("x_total", {"missing"}), 0);
}

TEST(RegistryTest, FormatsValuesAsPrometheusDoes) {
  EXPECT_EQ(FormatMetricValue(3), "3");
  EXPECT_EQ(FormatMetricValue(-2), "-2");
  EXPECT_EQ(FormatMetricValue(1.5), "1.5");
  EXPECT_EQ(FormatMetricValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatMetricValue(0.0 / 0.0), "NaN");
}

TEST(ServerMetricsTest, UsesVelerosNamesAndPreinitialisesAdHocCounters) {
  ServerMetrics m;
  const std::string fresh = m.Render();
  for (const char* line :
       {"velero_backup_attempt_total{schedule=\"\"} 0",
        "velero_backup_success_total{schedule=\"\"} 0",
        "velero_backup_failure_total{schedule=\"\"} 0",
        "velero_backup_partial_failure_total{schedule=\"\"} 0",
        "velero_backup_deletion_attempt_total{schedule=\"\"} 0",
        "velero_restore_attempt_total{schedule=\"\"} 0",
        "velero_restore_failed_total{schedule=\"\"} 0", "velero_backup_total 0",
        "velero_restore_total 0", "# TYPE velero_backup_duration_seconds histogram"}) {
    EXPECT_THAT(fresh, HasSubstr(line));
  }
  m.InitSchedule("daily");
  m.BackupAttempt("daily");
  m.BackupSuccess("daily");
  m.BackupDuration("daily", 120);
  m.LocationStatus("default", true);
  m.LocationStatus("broken", false);
  m.SetBackupTotal(4);
  const std::string text = m.Render();
  EXPECT_THAT(text, HasSubstr("velero_backup_attempt_total{schedule=\"daily\"} 1"));
  EXPECT_THAT(text, HasSubstr("velero_backup_failure_total{schedule=\"daily\"} 0"));
  EXPECT_THAT(text,
              HasSubstr("velero_backup_duration_seconds_bucket{schedule=\"daily\",le=\"60\"} 0"));
  EXPECT_THAT(text,
              HasSubstr("velero_backup_duration_seconds_bucket{schedule=\"daily\",le=\"300\"} 1"));
  EXPECT_THAT(text,
              HasSubstr("velero_backup_location_status_gauge{backup_location_name=\"default\"} 1"));
  EXPECT_THAT(text,
              HasSubstr("velero_backup_location_status_gauge{backup_location_name=\"broken\"} 0"));
  EXPECT_THAT(text, HasSubstr("velero_backup_total 4"));
  EXPECT_THAT(text, Not(HasSubstr("velero_backup_attempt_total{schedule=\"daily\"} 0")));
}

TEST(LoggerTest, TextLinesLookLikeLogrusAndJsonLinesParse) {
  SimulatedClock clock(std::chrono::system_clock::from_time_t(1'795'000'000));
  std::ostringstream out;
  Logger text(out, clock, LogFormat::kText);
  text.Info("Validated location", {{"controller", "bsl"}, {"error", "bucket \"x\" missing"}});
  text.Debug("not shown at info level");
  EXPECT_EQ(out.str(),
            "time=\"2026-11-18T11:06:40Z\" level=info msg=\"Validated location\" controller=bsl "
            "error=\"bucket \\\"x\\\" missing\"\n");
  std::ostringstream json_out;
  Logger json(json_out, clock, LogFormat::kJson);
  json.Error("Reconcile failed", {{"name", "b1"}});
  nlohmann::json line = nlohmann::json::parse(json_out.str());
  EXPECT_EQ(line["level"], "error");
  EXPECT_EQ(line["msg"], "Reconcile failed");
  EXPECT_EQ(line["name"], "b1");
  EXPECT_EQ(line["time"], "2026-11-18T11:06:40Z");
  EXPECT_EQ(ParseLogFormat("yaml").status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(ParseLogFormat("yaml").status().message(), HasSubstr("use text or json"));
  EXPECT_EQ(*ParseLogLevel("warn"), LogLevel::kWarning);
}

}  // namespace
}  // namespace arca::controller
