//! The API classes the emulator knows: properties in declaration order, parents, access.
//!
//! Serialisation order is PHP's `(array)$object` order: the most-derived class's own
//! properties first, then each parent's (§1.4).

/// How a property value is read from a request and typed in responses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `int`.
    Int,
    /// `string`.
    Str,
    /// `bool`.
    Bool,
    /// `float`.
    Float,
    /// `time`: an int where `|v| <= 10 years` means `now + v`.
    Time,
    /// An integer enum: its API type name and the accepted values.
    IntEnum(&'static str, &'static [i64]),
    /// A typed array (kept as generic objects).
    Array,
    /// A nested object (kept generic).
    Object,
}

/// Whether a property may be set by clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// Settable on add and update.
    ReadWrite,
    /// Never settable (`@readonly`).
    ReadOnly,
    /// Settable on add only (`@insertonly`).
    InsertOnly,
}

/// One property.
#[derive(Debug)]
pub(crate) struct Prop {
    /// Wire name.
    pub name: &'static str,
    /// Type.
    pub kind: Kind,
    /// Access.
    pub access: Access,
}

/// One API class.
#[derive(Debug)]
pub(crate) struct Class {
    /// PHP class name (the `objectType`).
    pub name: &'static str,
    /// Parent class, if any.
    pub parent: Option<&'static Class>,
    /// Own properties in declaration order.
    pub own: &'static [Prop],
    /// Whether requests must name a subclass.
    pub is_abstract: bool,
}

impl Class {
    /// Every property in serialisation order: own first, then the parents'.
    pub fn props(&'static self) -> Vec<&'static Prop> {
        let mut out: Vec<&'static Prop> = self.own.iter().collect();
        if let Some(parent) = self.parent {
            out.extend(parent.props());
        }
        out
    }

    /// A property by name.
    pub fn prop(&'static self, name: &str) -> Option<&'static Prop> {
        self.own.iter().find(|prop| prop.name == name).or_else(|| self.parent.and_then(|parent| parent.prop(name)))
    }

    /// Whether `self` is `base` or one of its subclasses.
    pub fn derives_from(&'static self, base: &'static Class) -> bool {
        std::ptr::eq(self, base) || self.parent.is_some_and(|parent| parent.derives_from(base))
    }
}

/// A class by name (PHP class names are case-insensitive).
pub(crate) fn find(name: &str) -> Option<&'static Class> {
    ALL.iter().copied().find(|class| class.name.eq_ignore_ascii_case(name))
}

const fn rw(name: &'static str, kind: Kind) -> Prop {
    Prop { name, kind, access: Access::ReadWrite }
}

const fn ro(name: &'static str, kind: Kind) -> Prop {
    Prop { name, kind, access: Access::ReadOnly }
}

const fn io(name: &'static str, kind: Kind) -> Prop {
    Prop { name, kind, access: Access::InsertOnly }
}

use Kind::{Array, Bool, Float, Int, Object, Str, Time};

pub(crate) const SESSION_TYPE: Kind = Kind::IntEnum("KalturaSessionType", &[0, 2]);
const USER_STATUS: Kind = Kind::IntEnum("KalturaUserStatus", &[0, 1, 2]);
const USER_TYPE: Kind = Kind::IntEnum("KalturaUserType", &[0, 1, 2]);
const RESOURCE_STATUS: Kind = Kind::IntEnum("KalturaScheduleResourceStatus", &[1, 2, 3]);
const EVENT_STATUS: Kind = Kind::IntEnum("KalturaScheduleEventStatus", &[1, 2, 3]);
const CLASSIFICATION: Kind = Kind::IntEnum("KalturaScheduleEventClassificationType", &[1, 2, 3]);
pub(crate) const RECURRENCE_TYPE: Kind = Kind::IntEnum("KalturaScheduleEventRecurrenceType", &[0, 1, 2]);
const MEDIA_TYPE: Kind = Kind::IntEnum("KalturaMediaType", &[1, 2, 5, 201, 202, 203, 204]);
const RECORD_STATUS: Kind = Kind::IntEnum("KalturaRecordStatus", &[0, 1, 2]);
const DVR_STATUS: Kind = Kind::IntEnum("KalturaDVRStatus", &[0, 1]);
const VIEW_MODE: Kind = Kind::IntEnum("KalturaViewMode", &[0, 1]);
const RECORDING_STATUS: Kind = Kind::IntEnum("KalturaRecordingStatus", &[0, 1, 2, 3]);

/// `KalturaBaseUser`.
pub(crate) static BASE_USER: Class = Class {
    name: "KalturaBaseUser",
    parent: None,
    is_abstract: false,
    own: &[
        rw("id", Str),
        ro("partnerId", Int),
        rw("screenName", Str),
        rw("fullName", Str),
        rw("email", Str),
        rw("country", Str),
        rw("state", Str),
        rw("city", Str),
        rw("zip", Str),
        rw("thumbnailUrl", Str),
        rw("description", Str),
        rw("tags", Str),
        rw("adminTags", Str),
        rw("status", USER_STATUS),
        ro("createdAt", Time),
        ro("updatedAt", Time),
        rw("partnerData", Str),
        rw("indexedPartnerDataInt", Int),
        rw("indexedPartnerDataString", Str),
        ro("storageSize", Int),
        rw("language", Str),
        ro("lastLoginTime", Int),
        ro("statusUpdatedAt", Int),
        ro("deletedAt", Int),
        rw("allowedPartnerIds", Str),
        rw("allowedPartnerPackages", Str),
        rw("userMode", Int),
        rw("capabilities", Array),
    ],
};

/// `KalturaUser`.
pub(crate) static USER: Class = Class {
    name: "KalturaUser",
    parent: Some(&BASE_USER),
    is_abstract: false,
    own: &[
        rw("type", USER_TYPE),
        rw("dateOfBirth", Int),
        rw("gender", Int),
        rw("isAdmin", Bool),
        rw("isGuest", Bool),
        rw("roleIds", Str),
        ro("roleNames", Str),
        ro("isAccountOwner", Bool),
        io("password", Str),
        rw("firstName", Str),
        rw("lastName", Str),
        rw("loginEnabled", Bool),
        rw("registrationInfo", Str),
        rw("attendanceInfo", Str),
        rw("title", Str),
        rw("company", Str),
        rw("ksPrivileges", Str),
        ro("encryptedSeed", Str),
        rw("isSsoExcluded", Bool),
        rw("externalId", Str),
    ],
};

/// `KalturaScheduleResource` (abstract).
pub(crate) static SCHEDULE_RESOURCE: Class = Class {
    name: "KalturaScheduleResource",
    parent: None,
    is_abstract: true,
    own: &[
        ro("id", Int),
        rw("parentId", Int),
        ro("partnerId", Int),
        rw("name", Str),
        rw("systemName", Str),
        rw("description", Str),
        ro("status", RESOURCE_STATUS),
        rw("tags", Str),
        ro("createdAt", Time),
        ro("updatedAt", Time),
    ],
};

/// `KalturaLocationScheduleResource`: a legacy meeting room.
pub(crate) static LOCATION_RESOURCE: Class =
    Class { name: "KalturaLocationScheduleResource", parent: Some(&SCHEDULE_RESOURCE), is_abstract: false, own: &[] };

/// `KalturaLiveEntryScheduleResource`.
pub(crate) static LIVE_ENTRY_RESOURCE: Class = Class {
    name: "KalturaLiveEntryScheduleResource",
    parent: Some(&SCHEDULE_RESOURCE),
    is_abstract: false,
    own: &[rw("entryId", Str)],
};

/// `KalturaCameraScheduleResource`.
pub(crate) static CAMERA_RESOURCE: Class = Class {
    name: "KalturaCameraScheduleResource",
    parent: Some(&SCHEDULE_RESOURCE),
    is_abstract: false,
    own: &[rw("streamUrl", Str)],
};

/// `KalturaScheduleEvent` (abstract), as in the server's declaration.
pub(crate) static SCHEDULE_EVENT: Class = Class {
    name: "KalturaScheduleEvent",
    parent: None,
    is_abstract: true,
    own: &[
        ro("id", Int),
        ro("partnerId", Int),
        ro("parentId", Int),
        rw("summary", Str),
        rw("description", Str),
        ro("status", EVENT_STATUS),
        rw("startDate", Time),
        rw("endDate", Time),
        rw("referenceId", Str),
        rw("classificationType", CLASSIFICATION),
        rw("geoLatitude", Float),
        rw("geoLongitude", Float),
        rw("location", Str),
        rw("organizer", Str),
        rw("ownerId", Str),
        rw("priority", Int),
        rw("sequence", Int),
        io("recurrenceType", RECURRENCE_TYPE),
        rw("duration", Int),
        rw("contact", Str),
        rw("comment", Str),
        rw("tags", Str),
        ro("createdAt", Time),
        ro("updatedAt", Time),
        rw("recurrence", Object),
    ],
};

/// `KalturaEntryScheduleEvent` (abstract).
pub(crate) static ENTRY_EVENT: Class = Class {
    name: "KalturaEntryScheduleEvent",
    parent: Some(&SCHEDULE_EVENT),
    is_abstract: true,
    own: &[rw("templateEntryId", Str), rw("entryIds", Str), rw("categoryIds", Str), ro("blackoutConflicts", Array)],
};

/// `KalturaRecordScheduleEvent`.
pub(crate) static RECORD_EVENT: Class =
    Class { name: "KalturaRecordScheduleEvent", parent: Some(&ENTRY_EVENT), is_abstract: false, own: &[] };

/// `KalturaMeetingScheduleEvent`.
pub(crate) static MEETING_EVENT: Class = Class {
    name: "KalturaMeetingScheduleEvent",
    parent: Some(&ENTRY_EVENT),
    is_abstract: false,
    own: &[rw("preStartTime", Int)],
};

/// `KalturaLiveStreamScheduleEvent`.
pub(crate) static LIVE_STREAM_EVENT: Class = Class {
    name: "KalturaLiveStreamScheduleEvent",
    parent: Some(&ENTRY_EVENT),
    is_abstract: false,
    own: &[
        rw("sourceEntryId", Str),
        rw("projectedAudience", Int),
        rw("preStartTime", Int),
        rw("postEndTime", Int),
        rw("preStartEntryId", Str),
        rw("postEndEntryId", Str),
        rw("isContentInterruptible", Bool),
        rw("liveFeatures", Array),
    ],
};

/// `KalturaScheduleEventResource`.
pub(crate) static EVENT_RESOURCE: Class = Class {
    name: "KalturaScheduleEventResource",
    parent: None,
    is_abstract: false,
    own: &[
        io("eventId", Int),
        io("resourceId", Int),
        ro("partnerId", Int),
        ro("createdAt", Time),
        ro("updatedAt", Time),
    ],
};

/// `KalturaBaseEntry`.
pub(crate) static BASE_ENTRY: Class = Class {
    name: "KalturaBaseEntry",
    parent: None,
    is_abstract: false,
    own: &[
        ro("id", Str),
        rw("name", Str),
        rw("description", Str),
        ro("partnerId", Int),
        rw("userId", Str),
        io("creatorId", Str),
        rw("tags", Str),
        rw("adminTags", Str),
        rw("categories", Str),
        rw("categoriesIds", Str),
        ro("status", Int),
        ro("moderationStatus", Int),
        ro("moderationCount", Int),
        io("type", Int),
        ro("createdAt", Time),
        ro("updatedAt", Time),
        ro("rank", Float),
        ro("totalRank", Int),
        ro("votes", Int),
        rw("groupId", Int),
        rw("partnerData", Str),
        ro("downloadUrl", Str),
        ro("searchText", Str),
        rw("licenseType", Int),
        ro("version", Int),
        ro("thumbnailUrl", Str),
        rw("accessControlId", Int),
        rw("startDate", Time),
        rw("endDate", Time),
        rw("referenceId", Str),
        ro("replacingEntryId", Str),
        ro("replacedEntryId", Str),
        ro("replacementStatus", Str),
        rw("partnerSortValue", Int),
        rw("conversionProfileId", Int),
        rw("redirectEntryId", Str),
        ro("rootEntryId", Str),
        rw("parentEntryId", Str),
        rw("operationAttributes", Array),
        rw("entitledUsersEdit", Str),
        rw("entitledUsersPublish", Str),
        rw("entitledUsersView", Str),
        ro("capabilities", Str),
        io("templateEntryId", Str),
        rw("displayInSearch", Int),
        rw("application", Str),
        rw("applicationVersion", Str),
        rw("blockAutoTranscript", Bool),
        rw("defaultLanguage", Str),
        rw("responseLanguage", Str),
    ],
};

/// `KalturaPlayableEntry`.
pub(crate) static PLAYABLE_ENTRY: Class = Class {
    name: "KalturaPlayableEntry",
    parent: Some(&BASE_ENTRY),
    is_abstract: false,
    own: &[
        ro("plays", Int),
        ro("views", Int),
        ro("lastPlayedAt", Time),
        ro("width", Int),
        ro("height", Int),
        ro("duration", Int),
        rw("msDuration", Int),
        ro("durationType", Str),
    ],
};

/// `KalturaMediaEntry`.
pub(crate) static MEDIA_ENTRY: Class = Class {
    name: "KalturaMediaEntry",
    parent: Some(&PLAYABLE_ENTRY),
    is_abstract: false,
    own: &[
        io("mediaType", MEDIA_TYPE),
        rw("conversionQuality", Str),
        io("sourceType", Str),
        rw("sourceVersion", Str),
        rw("searchProviderType", Int),
        rw("searchProviderId", Str),
        rw("creditUserName", Str),
        rw("creditUrl", Str),
        ro("mediaDate", Time),
        ro("dataUrl", Str),
        ro("flavorParamsIds", Str),
        rw("isTrimDisabled", Bool),
        rw("streams", Array),
    ],
};

/// `KalturaLiveEntry` (abstract).
pub(crate) static LIVE_ENTRY: Class = Class {
    name: "KalturaLiveEntry",
    parent: Some(&MEDIA_ENTRY),
    is_abstract: true,
    own: &[
        rw("offlineMessage", Str),
        rw("recordStatus", RECORD_STATUS),
        rw("dvrStatus", DVR_STATUS),
        rw("dvrWindow", Int),
        rw("lastElapsedRecordingTime", Int),
        rw("liveStreamConfigurations", Array),
        rw("recordedEntryId", Str),
        rw("pushPublishEnabled", Int),
        rw("publishConfigurations", Array),
        ro("firstBroadcast", Time),
        ro("lastBroadcast", Time),
        rw("currentBroadcastStartTime", Float),
        rw("recordingOptions", Object),
        ro("liveStatus", Int),
        rw("segmentDuration", Int),
        rw("explicitLive", Bool),
        rw("viewMode", VIEW_MODE),
        rw("recordingStatus", RECORDING_STATUS),
        ro("lastBroadcastEndTime", Int),
        rw("broadcastTime", Int),
    ],
};

/// `KalturaLiveStreamEntry`.
pub(crate) static LIVE_STREAM_ENTRY: Class = Class {
    name: "KalturaLiveStreamEntry",
    parent: Some(&LIVE_ENTRY),
    is_abstract: false,
    own: &[
        ro("streamRemoteId", Str),
        ro("streamRemoteBackupId", Str),
        rw("bitrates", Array),
        rw("primaryBroadcastingUrl", Str),
        rw("secondaryBroadcastingUrl", Str),
        rw("primarySecuredBroadcastingUrl", Str),
        rw("secondarySecuredBroadcastingUrl", Str),
        rw("primaryRtspBroadcastingUrl", Str),
        rw("secondaryRtspBroadcastingUrl", Str),
        rw("streamName", Str),
        rw("streamUrl", Str),
        rw("hlsStreamUrl", Str),
        rw("urlManager", Str),
        rw("encodingIP1", Str),
        rw("encodingIP2", Str),
        rw("streamPassword", Str),
        ro("streamUsername", Str),
        ro("primaryServerNodeId", Int),
        ro("sipToken", Str),
        rw("sipSourceType", Int),
    ],
};

static ALL: &[&Class] = &[
    &BASE_USER,
    &USER,
    &SCHEDULE_RESOURCE,
    &LOCATION_RESOURCE,
    &LIVE_ENTRY_RESOURCE,
    &CAMERA_RESOURCE,
    &SCHEDULE_EVENT,
    &ENTRY_EVENT,
    &RECORD_EVENT,
    &MEETING_EVENT,
    &LIVE_STREAM_EVENT,
    &EVENT_RESOURCE,
    &BASE_ENTRY,
    &PLAYABLE_ENTRY,
    &MEDIA_ENTRY,
    &LIVE_ENTRY,
    &LIVE_STREAM_ENTRY,
];

#[cfg(test)]
mod tests {
    use super::{LIVE_STREAM_EVENT, MEDIA_ENTRY, RECORD_EVENT, SCHEDULE_EVENT, USER, find};

    #[test]
    fn most_derived_properties_come_first() {
        let names: Vec<_> = RECORD_EVENT.props().iter().map(|prop| prop.name).collect();
        assert_eq!(&names[..5], ["templateEntryId", "entryIds", "categoryIds", "blackoutConflicts", "id"]);
        let names: Vec<_> = MEDIA_ENTRY.props().iter().map(|prop| prop.name).collect();
        assert_eq!(&names[..3], ["mediaType", "conversionQuality", "sourceType"]);
        assert_eq!(names[13], "plays");
        assert_eq!(names[21], "id");
        assert_eq!(USER.props()[0].name, "type");
    }

    #[test]
    fn lookups_and_derivation() {
        assert_eq!(find("kalturarecordscheduleevent").map(|class| class.name), Some(RECORD_EVENT.name));
        assert!(LIVE_STREAM_EVENT.derives_from(&SCHEDULE_EVENT));
        assert!(!USER.derives_from(&SCHEDULE_EVENT));
        assert!(RECORD_EVENT.prop("summary").is_some());
    }
}
