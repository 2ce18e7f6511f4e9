"""Flow summaries: NetFlow v5/v9/IPFIX receiver and packet-capture top talkers per line (docs/flows.md)."""

from collector.flows.aggregate import Conversation, FlowAggregator, Summary, summary_points
from collector.flows.config import FlowsConfig, check_config, load_flows_config, load_for_settings
from collector.flows.linemap import LineMap, LocalNetworks
from collector.flows.netflow import ExporterStats, FlowDecoder, Template, TemplateCache
from collector.flows.pcap import CaptureStats, iter_packets
from collector.flows.records import FlowRecord, ip_bytes, ip_text
from collector.flows.service import FlowService, run_receiver

__all__ = [
    "CaptureStats",
    "Conversation",
    "ExporterStats",
    "FlowAggregator",
    "FlowDecoder",
    "FlowRecord",
    "FlowService",
    "FlowsConfig",
    "LineMap",
    "LocalNetworks",
    "Summary",
    "Template",
    "TemplateCache",
    "check_config",
    "ip_bytes",
    "ip_text",
    "iter_packets",
    "load_flows_config",
    "load_for_settings",
    "run_receiver",
    "summary_points",
]
