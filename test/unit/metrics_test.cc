// The Prometheus text format (config/prometheus.h) and the /metrics endpoint's answers.
#include <catch2/catch.hpp>

#include "config/prometheus.h"
#include "config_test_util.h"
#include "control/metrics/metrics_server.h"

using namespace bulwark;

TEST_CASE("metrics families: HELP, TYPE, samples, label values escaped", "[metrics]") {
  config::MetricsWriter w;
  w.family("bulwark_test_total", "counter", "A help text with a back\\slash\nand a line feed.");
  w.sample(7);
  w.sample(3, {{"name", "a \"quoted\" \\ value\nwith a line feed"}, {"other", "x"}});
  CHECK(w.text() ==
        "# HELP bulwark_test_total A help text with a back\\\\slash\\nand a line feed.\n"
        "# TYPE bulwark_test_total counter\n"
        "bulwark_test_total 7\n"
        "bulwark_test_total{name=\"a \\\"quoted\\\" \\\\ value\\nwith a line feed\",other=\"x\"} 3\n");
}

TEST_CASE("the metrics endpoint answers GET /metrics only", "[metrics]") {
  control::MetricsServer server([] { return std::string("bulwark_generation 1\n"); }, [](const std::string&) {});
  control::HttpRequest r;
  r.method = "GET";
  r.path = "/metrics";
  auto ok = server.answer(r);
  CHECK(ok.status == 200);
  CHECK(ok.content_type == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(ok.body == "bulwark_generation 1\n");
  r.path = "/";
  CHECK(server.answer(r).status == 404);
  r.path = "/metrics";
  r.method = "POST";
  auto post = server.answer(r);
  CHECK(post.status == 405);
  REQUIRE(post.headers.size() == 1);
  CHECK(post.headers[0].first == "Allow");
}

TEST_CASE("management.metrics: interfaces must exist, the port must be free", "[metrics]") {
  auto ok = test::load_text(test::base_config("management:\n  metrics: {interfaces: [internal]}\n"));
  INFO(test::all_messages(ok));
  REQUIRE(ok.tables);
  CHECK(ok.tables->management.metrics_interfaces == std::vector<uint16_t>{0});
  CHECK(ok.tables->management.metrics_port == 9100);
  auto bad = test::load_text(test::base_config(
      "user_firewall:\n  login_interfaces: [internal]\n  templates: []\n"
      "management:\n  https: {port: 8443}\n  metrics: {interfaces: [internal, nowhere], port: 8443}\n"));
  CHECK_FALSE(bad.tables);
  CHECK(test::has_diagnostic(bad, config::Severity::kError, "nowhere"));
  CHECK(test::has_diagnostic(bad, config::Severity::kError, "already the login portal's", 0, 0, "management.metrics.port"));
}
