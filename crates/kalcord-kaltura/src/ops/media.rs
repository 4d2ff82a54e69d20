//! `media`: finding and reading recordings.

use serde_json::{Map, Value, json};

use crate::client::{Client, Idempotency};
use crate::error::KalturaError;
use crate::model::{ListResponse, MediaEntry};

/// Filter of `media.list` (`KalturaMediaEntryFilter`); unset fields do not filter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MediaFilter {
    /// Entries recorded from this entry (room or live stream).
    pub root_entry_id_equal: Option<String>,
    /// Entries whose name contains this.
    pub name_like: Option<String>,
    /// Entries with this reference id.
    pub reference_id_equal: Option<String>,
    /// Entries in this status (2 = ready).
    pub status_equal: Option<i64>,
}

impl MediaFilter {
    fn to_object(&self) -> Value {
        let mut filter = Map::new();
        filter.insert("objectType".to_owned(), json!("KalturaMediaEntryFilter"));
        filter.insert("orderBy".to_owned(), json!("-createdAt"));
        let text = [
            ("rootEntryIdEqual", &self.root_entry_id_equal),
            ("nameLike", &self.name_like),
            ("referenceIdEqual", &self.reference_id_equal),
        ];
        for (name, value) in text {
            if let Some(value) = value {
                filter.insert(name.to_owned(), json!(value));
            }
        }
        if let Some(status) = self.status_equal {
            filter.insert("statusEqual".to_owned(), json!(status));
        }
        Value::Object(filter)
    }
}

impl Client {
    /// `media.list`, newest first; `page_index` starts at 1, `page_size` at most 500.
    ///
    /// # Errors
    ///
    /// API and transport errors.
    pub async fn list_media(
        &self,
        filter: &MediaFilter,
        page_size: u32,
        page_index: u32,
    ) -> Result<ListResponse<MediaEntry>, KalturaError> {
        let pager = json!({ "objectType": "KalturaFilterPager", "pageSize": page_size.clamp(1, 500), "pageIndex": page_index.max(1) });
        self.call("media", "list", json!({ "filter": filter.to_object(), "pager": pager }), Idempotency::Safe).await
    }

    /// `media.get`.
    ///
    /// # Errors
    ///
    /// `ENTRY_ID_NOT_FOUND` when there is no such entry.
    pub async fn get_media(&self, entry_id: &str) -> Result<MediaEntry, KalturaError> {
        self.call("media", "get", json!({ "entryId": entry_id }), Idempotency::Safe).await
    }
}
