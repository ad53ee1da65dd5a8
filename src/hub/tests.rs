//! Unit tests of the router through `tower::ServiceExt::oneshot`.
