//! The create, read, update, delete and list of every entity, written once over any
//! [`Store`]. An entity's repository trait extends the one of these four that fits it, chosen
//! by its record's [`Record::Access`]:
//!
//! - [`Crud`] for an entity neither tenant-scoped nor versioned;
//! - [`TenantCrud`] where rows belong to an organization. Every method takes the caller's
//!   organization and never sees another's rows;
//! - [`VersionedCrud`] where `update` and `delete` take the version the caller read (`None`:
//!   any) and fail with [`crate::RepoError::Stale`] when the row has moved on;
//! - [`TenantVersionedCrud`] for both.
//!
//! An update answers `None`, and a delete `false`, when no row has the id.

use async_trait::async_trait;
use uuid::Uuid;

use crate::repo::{ListQuery, Page, RepoResult};
use crate::store::{Record, Store};

/// Which of the four traits an entity's repository extends (the markers below).
pub trait Access: Send + Sync + 'static {}

/// Neither tenant-scoped nor versioned: [`Crud`].
pub struct Plain;
/// Tenant-scoped: [`TenantCrud`].
pub struct Tenant;
/// Versioned: [`VersionedCrud`].
pub struct Versioned;
/// Tenant-scoped and versioned: [`TenantVersionedCrud`].
pub struct TenantVersioned;

impl Access for Plain {}
impl Access for Tenant {}
impl Access for Versioned {}
impl Access for TenantVersioned {}

fn new_row<E: Record>(new: E::New, org: Option<Uuid>) -> E {
    E::from_new(new, Uuid::now_v7(), crate::sql::now(), org)
}

#[async_trait]
pub trait Crud<E: Record>: Send + Sync {
    async fn create(&self, new: E::New) -> RepoResult<E>;
    async fn get(&self, id: Uuid) -> RepoResult<Option<E>>;
    async fn update(&self, id: Uuid, patch: E::Patch) -> RepoResult<Option<E>>;
    async fn delete(&self, id: Uuid) -> RepoResult<bool>;
    async fn list(&self, query: &ListQuery) -> RepoResult<Page<E>>;
}

#[async_trait]
impl<S: Store<E>, E: Record<Access = Plain>> Crud<E> for S {
    async fn create(&self, new: E::New) -> RepoResult<E> {
        self.insert(None, new_row(new, None)).await
    }
    async fn get(&self, id: Uuid) -> RepoResult<Option<E>> {
        self.find(None, id).await
    }
    async fn update(&self, id: Uuid, patch: E::Patch) -> RepoResult<Option<E>> {
        self.change(None, id, patch, None).await
    }
    async fn delete(&self, id: Uuid) -> RepoResult<bool> {
        self.remove(None, id, None).await
    }
    async fn list(&self, query: &ListQuery) -> RepoResult<Page<E>> {
        self.page(None, query).await
    }
}

#[async_trait]
pub trait TenantCrud<E: Record>: Send + Sync {
    async fn create(&self, org: Uuid, new: E::New) -> RepoResult<E>;
    async fn get(&self, org: Uuid, id: Uuid) -> RepoResult<Option<E>>;
    async fn update(&self, org: Uuid, id: Uuid, patch: E::Patch) -> RepoResult<Option<E>>;
    async fn delete(&self, org: Uuid, id: Uuid) -> RepoResult<bool>;
    async fn list(&self, org: Uuid, query: &ListQuery) -> RepoResult<Page<E>>;
}

#[async_trait]
impl<S: Store<E>, E: Record<Access = Tenant>> TenantCrud<E> for S {
    async fn create(&self, org: Uuid, new: E::New) -> RepoResult<E> {
        self.insert(Some(org), new_row(new, Some(org))).await
    }
    async fn get(&self, org: Uuid, id: Uuid) -> RepoResult<Option<E>> {
        self.find(Some(org), id).await
    }
    async fn update(&self, org: Uuid, id: Uuid, patch: E::Patch) -> RepoResult<Option<E>> {
        self.change(Some(org), id, patch, None).await
    }
    async fn delete(&self, org: Uuid, id: Uuid) -> RepoResult<bool> {
        self.remove(Some(org), id, None).await
    }
    async fn list(&self, org: Uuid, query: &ListQuery) -> RepoResult<Page<E>> {
        self.page(Some(org), query).await
    }
}

#[async_trait]
pub trait VersionedCrud<E: Record>: Send + Sync {
    async fn create(&self, new: E::New) -> RepoResult<E>;
    async fn get(&self, id: Uuid) -> RepoResult<Option<E>>;
    async fn update(
        &self,
        id: Uuid,
        patch: E::Patch,
        expected: Option<i64>,
    ) -> RepoResult<Option<E>>;
    async fn delete(&self, id: Uuid, expected: Option<i64>) -> RepoResult<bool>;
    async fn list(&self, query: &ListQuery) -> RepoResult<Page<E>>;
}

#[async_trait]
impl<S: Store<E>, E: Record<Access = Versioned>> VersionedCrud<E> for S {
    async fn create(&self, new: E::New) -> RepoResult<E> {
        self.insert(None, new_row(new, None)).await
    }
    async fn get(&self, id: Uuid) -> RepoResult<Option<E>> {
        self.find(None, id).await
    }
    async fn update(
        &self,
        id: Uuid,
        patch: E::Patch,
        expected: Option<i64>,
    ) -> RepoResult<Option<E>> {
        self.change(None, id, patch, expected).await
    }
    async fn delete(&self, id: Uuid, expected: Option<i64>) -> RepoResult<bool> {
        self.remove(None, id, expected).await
    }
    async fn list(&self, query: &ListQuery) -> RepoResult<Page<E>> {
        self.page(None, query).await
    }
}

#[async_trait]
pub trait TenantVersionedCrud<E: Record>: Send + Sync {
    async fn create(&self, org: Uuid, new: E::New) -> RepoResult<E>;
    async fn get(&self, org: Uuid, id: Uuid) -> RepoResult<Option<E>>;
    async fn update(
        &self,
        org: Uuid,
        id: Uuid,
        patch: E::Patch,
        expected: Option<i64>,
    ) -> RepoResult<Option<E>>;
    async fn delete(&self, org: Uuid, id: Uuid, expected: Option<i64>) -> RepoResult<bool>;
    async fn list(&self, org: Uuid, query: &ListQuery) -> RepoResult<Page<E>>;
}

#[async_trait]
impl<S: Store<E>, E: Record<Access = TenantVersioned>> TenantVersionedCrud<E> for S {
    async fn create(&self, org: Uuid, new: E::New) -> RepoResult<E> {
        self.insert(Some(org), new_row(new, Some(org))).await
    }
    async fn get(&self, org: Uuid, id: Uuid) -> RepoResult<Option<E>> {
        self.find(Some(org), id).await
    }
    async fn update(
        &self,
        org: Uuid,
        id: Uuid,
        patch: E::Patch,
        expected: Option<i64>,
    ) -> RepoResult<Option<E>> {
        self.change(Some(org), id, patch, expected).await
    }
    async fn delete(&self, org: Uuid, id: Uuid, expected: Option<i64>) -> RepoResult<bool> {
        self.remove(Some(org), id, expected).await
    }
    async fn list(&self, org: Uuid, query: &ListQuery) -> RepoResult<Page<E>> {
        self.page(Some(org), query).await
    }
}
