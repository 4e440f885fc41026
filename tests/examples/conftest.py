"""The spec examples under spec/ are data for the tests here, never collected themselves."""

collect_ignore = ["spec"]
