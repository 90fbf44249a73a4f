"""What real Salesforce says about every object the app reads — the demo org is held to this.

Nobody on this project wrote these facts; each is copied (names and types only) from an artifact
of a real org or from Salesforce's documentation, and its source is named beside it:

- NETCOREFORCE: describe-generated models of a real org, API 64.0, in the public repository
  anthonyreilly/NetCoreForce (src/NetCoreForce.Models/Sf<Object>.cs, commit 539d50fa, June
  2025). That org had no multi-currency, no record types on Opportunity and no team selling,
  so CurrencyIsoCode / RecordTypeId and the two team objects are not in it (see FEATURE_FIELDS).
- ILLUMINATED_CLOUD: types generated from a real org's describe by Illuminated Cloud, public
  repository ruwanthalk/ruwanthalk (.illuminatedCloud/lwc/types/objects/<Object>.d.ts, commit
  2f28b596): the team objects' field names (their types are the Object Reference's).
- OBJECT_REFERENCE: Salesforce's SOAP API Object Reference, "Supported Calls" of each object:
  an object is replicateable (``/updated``, ``/deleted``) when getUpdated()/getDeleted() are
  among them.

``tests/unit/demo_org/test_real_salesforce.py`` holds the demo org's catalog against this file.
"""

from __future__ import annotations

from dataclasses import dataclass

NETCOREFORCE = "anthonyreilly/NetCoreForce src/NetCoreForce.Models (real org describe, API 64.0)"
ILLUMINATED_CLOUD = "ruwanthalk/ruwanthalk .illuminatedCloud/lwc/types/objects (real org describe)"
OBJECT_REFERENCE = "Salesforce SOAP API Object Reference, Supported Calls"


@dataclass(frozen=True)
class ObjectFacts:
    replicateable: bool  # getUpdated()/getDeleted() supported: /updated and /deleted work
    source: str  # where replicateable comes from
    verified: bool = True  # False: from memory of the docs, not re-read in a stored copy


# IsDeleted presence comes from the field lists below (REAL_FIELDS); replicateability from the
# Object Reference. Objects whose "Supported Calls" were re-read in a stored copy are verified.
OBJECTS: dict[str, ObjectFacts] = {
    "Organization": ObjectFacts(False, f"{OBJECT_REFERENCE}: describeSObjects(), query(), "
                                       "retrieve(), update()", verified=False),
    "User": ObjectFacts(True, f"{OBJECT_REFERENCE}: … getDeleted(), getUpdated() …",
                        verified=False),
    "BusinessProcess": ObjectFacts(False, f"{OBJECT_REFERENCE}: create(), describeSObjects(), "
                                          "query(), retrieve(), update()", verified=False),
    "RecordType": ObjectFacts(True, f"{OBJECT_REFERENCE}: create(), update(), query(), "
                                    "retrieve(), getDeleted(), getUpdated(), describeSObjects()"),
    "OpportunityStage": ObjectFacts(False, f"{OBJECT_REFERENCE}: query(), retrieve(), "
                                           "describeSObjects()"),
    "Opportunity": ObjectFacts(True, f"{OBJECT_REFERENCE}: create(), delete(), describeLayout(),"
                                     " describeSObjects(), getDeleted(), getUpdated(), query(), "
                                     "retrieve(), search(), undelete(), update(), upsert()"),
    **{name: ObjectFacts(True, f"{OBJECT_REFERENCE}: … getDeleted(), getUpdated() …",
                         verified=False)
       for name in ("Account", "Contact", "OpportunityContactRole", "OpportunityHistory",
                    "OpportunityFieldHistory", "OpportunityTeamMember", "AccountTeamMember",
                    "Lead", "LeadHistory", "Task", "Event", "EmailMessage")},
}

# Fields that exist only when the org has the feature (the NetCoreForce org had none of them).
FEATURE_FIELDS: dict[str, str] = {
    "CurrencyIsoCode": "multi-currency", "RecordTypeId": "record types on the object",
}

# "Name:type …" per object, as describe returned them. Source: NETCOREFORCE unless noted.
_RAW: dict[str, tuple[str, ...]] = {
    "Organization": (
        "Id:id Name:string Division:string Street:textarea City:string State:string "
        "PostalCode:string Country:string Latitude:double Longitude:double "
        "GeocodeAccuracy:picklist Address:address Phone:phone Fax:phone PrimaryContact:string "
        "DefaultLocaleSidKey:picklist TimeZoneSidKey:picklist LanguageLocaleKey:picklist "
        "ReceivesInfoEmails:boolean ReceivesAdminInfoEmails:boolean "
        "PreferencesRequireOpportunityProducts:boolean PreferencesEmailSenderIdCompliance:boolean "
        "PreferencesTransactionSecurityPolicy:boolean PreferencesConsentManagementEnabled:boolean "
        "PreferencesAutoSelectIndividualOnMerge:boolean PreferencesLightningLoginEnabled:boolean "
        "PreferencesOnlyLLPermUserAllowed:boolean FiscalYearStartMonth:int "
        "UsesStartDateAsFiscalYearName:boolean DefaultAccountAccess:picklist "
        "DefaultContactAccess:picklist DefaultOpportunityAccess:picklist "
        "DefaultLeadAccess:picklist DefaultCaseAccess:picklist DefaultCalendarAccess:picklist "
        "DefaultPricebookAccess:picklist DefaultCampaignAccess:picklist SystemModstamp:datetime "
        "ComplianceBccEmail:email UiSkin:picklist SignupCountryIsoCode:string "
        "TrialExpirationDate:datetime NumKnowledgeService:int OrganizationType:picklist "
        "NamespacePrefix:string InstanceName:string IsSandbox:boolean "
        "WebToCaseDefaultOrigin:string MonthlyPageViewsUsed:int MonthlyPageViewsEntitlement:int "
        "IsReadOnly:boolean CreatedDate:datetime CreatedById:reference LastModifiedDate:datetime "
        "LastModifiedById:reference "
    ),
    "User": (
        "Id:id Username:string LastName:string FirstName:string Name:string CompanyName:string "
        "Division:string Department:string Title:string Street:textarea City:string State:string "
        "PostalCode:string Country:string Latitude:double Longitude:double "
        "GeocodeAccuracy:picklist Address:address Email:email EmailPreferencesAutoBcc:boolean "
        "EmailPreferencesAutoBccStayInTouch:boolean EmailPreferencesStayInTouchReminder:boolean "
        "SenderEmail:email SenderName:string Signature:textarea StayInTouchSubject:string "
        "StayInTouchSignature:textarea StayInTouchNote:string Phone:phone Fax:phone "
        "MobilePhone:phone Alias:string CommunityNickname:string BadgeText:string "
        "IsActive:boolean TimeZoneSidKey:picklist UserRoleId:reference LocaleSidKey:picklist "
        "ReceivesInfoEmails:boolean ReceivesAdminInfoEmails:boolean EmailEncodingKey:picklist "
        "ProfileId:reference UserType:picklist StartDay:picklist EndDay:picklist "
        "LanguageLocaleKey:picklist EmployeeNumber:string DelegatedApproverId:reference "
        "ManagerId:reference LastLoginDate:datetime LastPasswordChangeDate:datetime "
        "CreatedDate:datetime CreatedById:reference LastModifiedDate:datetime "
        "LastModifiedById:reference SystemModstamp:datetime PasswordExpirationDate:datetime "
        "NumberOfFailedLogins:int SuAccessExpirationDate:date OfflineTrialExpirationDate:datetime "
        "OfflinePdaTrialExpirationDate:datetime UserPermissionsMarketingUser:boolean "
        "UserPermissionsOfflineUser:boolean UserPermissionsCallCenterAutoLogin:boolean "
        "UserPermissionsSFContentUser:boolean UserPermissionsKnowledgeUser:boolean "
        "UserPermissionsInteractionUser:boolean UserPermissionsSupportUser:boolean "
        "UserPermissionsJigsawProspectingUser:boolean "
        "UserPermissionsSiteforceContributorUser:boolean "
        "UserPermissionsSiteforcePublisherUser:boolean "
        "UserPermissionsWorkDotComUserFeature:boolean ForecastEnabled:boolean "
        "UserPreferencesActivityRemindersPopup:boolean "
        "UserPreferencesEventRemindersCheckboxDefault:boolean "
        "UserPreferencesTaskRemindersCheckboxDefault:boolean "
        "UserPreferencesReminderSoundOff:boolean UserPreferencesDisableAllFeedsEmail:boolean "
        "UserPreferencesDisableFollowersEmail:boolean "
        "UserPreferencesDisableProfilePostEmail:boolean "
        "UserPreferencesDisableChangeCommentEmail:boolean "
        "UserPreferencesDisableLaterCommentEmail:boolean "
        "UserPreferencesDisProfPostCommentEmail:boolean UserPreferencesContentNoEmail:boolean "
        "UserPreferencesContentEmailAsAndWhen:boolean "
        "UserPreferencesApexPagesDeveloperMode:boolean "
        "UserPreferencesReceiveNoNotificationsAsApprover:boolean "
        "UserPreferencesReceiveNotificationsAsDelegatedApprover:boolean "
        "UserPreferencesHideCSNGetChatterMobileTask:boolean "
        "UserPreferencesDisableMentionsPostEmail:boolean "
        "UserPreferencesDisMentionsCommentEmail:boolean UserPreferencesHideCSNDesktopTask:boolean "
        "UserPreferencesHideChatterOnboardingSplash:boolean "
        "UserPreferencesHideSecondChatterOnboardingSplash:boolean "
        "UserPreferencesDisCommentAfterLikeEmail:boolean UserPreferencesDisableLikeEmail:boolean "
        "UserPreferencesSortFeedByComment:boolean UserPreferencesDisableMessageEmail:boolean "
        "UserPreferencesJigsawListUser:boolean UserPreferencesDisableBookmarkEmail:boolean "
        "UserPreferencesDisableSharePostEmail:boolean "
        "UserPreferencesActionLauncherEinsteinGptConsent:boolean "
        "UserPreferencesAssistiveActionsEnabledInActionLauncher:boolean "
        "UserPreferencesEnableAutoSubForFeeds:boolean "
        "UserPreferencesDisableFileShareNotificationsForApi:boolean "
        "UserPreferencesShowTitleToExternalUsers:boolean "
        "UserPreferencesShowManagerToExternalUsers:boolean "
        "UserPreferencesShowEmailToExternalUsers:boolean "
        "UserPreferencesShowWorkPhoneToExternalUsers:boolean "
        "UserPreferencesShowMobilePhoneToExternalUsers:boolean "
        "UserPreferencesShowFaxToExternalUsers:boolean "
        "UserPreferencesShowStreetAddressToExternalUsers:boolean "
        "UserPreferencesShowCityToExternalUsers:boolean "
        "UserPreferencesShowStateToExternalUsers:boolean "
        "UserPreferencesShowPostalCodeToExternalUsers:boolean "
        "UserPreferencesShowCountryToExternalUsers:boolean "
        "UserPreferencesShowProfilePicToGuestUsers:boolean "
        "UserPreferencesShowTitleToGuestUsers:boolean UserPreferencesShowCityToGuestUsers:boolean "
        "UserPreferencesShowStateToGuestUsers:boolean "
        "UserPreferencesShowPostalCodeToGuestUsers:boolean "
        "UserPreferencesShowCountryToGuestUsers:boolean "
        "UserPreferencesShowForecastingChangeSignals:boolean "
        "UserPreferencesLiveAgentMiawSetupDeflection:boolean "
        "UserPreferencesHideS1BrowserUI:boolean UserPreferencesDisableEndorsementEmail:boolean "
        "UserPreferencesPathAssistantCollapsed:boolean UserPreferencesCacheDiagnostics:boolean "
        "UserPreferencesShowEmailToGuestUsers:boolean "
        "UserPreferencesShowManagerToGuestUsers:boolean "
        "UserPreferencesShowWorkPhoneToGuestUsers:boolean "
        "UserPreferencesShowMobilePhoneToGuestUsers:boolean "
        "UserPreferencesShowFaxToGuestUsers:boolean "
        "UserPreferencesShowStreetAddressToGuestUsers:boolean "
        "UserPreferencesLightningExperiencePreferred:boolean "
        "UserPreferencesPreviewLightning:boolean "
        "UserPreferencesHideEndUserOnboardingAssistantModal:boolean "
        "UserPreferencesHideLightningMigrationModal:boolean "
        "UserPreferencesHideSfxWelcomeMat:boolean UserPreferencesHideBiggerPhotoCallout:boolean "
        "UserPreferencesGlobalNavBarWTShown:boolean "
        "UserPreferencesGlobalNavGridMenuWTShown:boolean "
        "UserPreferencesCreateLEXAppsWTShown:boolean UserPreferencesFavoritesWTShown:boolean "
        "UserPreferencesRecordHomeSectionCollapseWTShown:boolean "
        "UserPreferencesRecordHomeReservedWTShown:boolean "
        "UserPreferencesFavoritesShowTopFavorites:boolean "
        "UserPreferencesExcludeMailAppAttachments:boolean "
        "UserPreferencesSuppressTaskSFXReminders:boolean "
        "UserPreferencesSuppressEventSFXReminders:boolean "
        "UserPreferencesPreviewCustomTheme:boolean UserPreferencesHasCelebrationBadge:boolean "
        "UserPreferencesUserDebugModePref:boolean UserPreferencesSRHOverrideActivities:boolean "
        "UserPreferencesNewLightningReportRunPageEnabled:boolean "
        "UserPreferencesReverseOpenActivitiesView:boolean "
        "UserPreferencesHasSentWarningEmail:boolean UserPreferencesHasSentWarningEmail238:boolean "
        "UserPreferencesHasSentWarningEmail240:boolean "
        "UserPreferencesDismissPersonalSpaceLegalMessage:boolean "
        "UserPreferencesNativeEmailClient:boolean "
        "UserPreferencesHideManagedEcaMobilePubModal:boolean "
        "UserPreferencesShowForecastingRoundedAmounts:boolean HasUserVerifiedPhone:boolean "
        "HasUserVerifiedEmail:boolean ContactId:reference AccountId:reference "
        "CallCenterId:reference Extension:phone FederationIdentifier:string AboutMe:textarea "
        "FullPhotoUrl:url SmallPhotoUrl:url IsExtIndicatorVisible:boolean "
        "OutOfOfficeMessage:string MediumPhotoUrl:url DigestFrequency:picklist "
        "DefaultGroupNotificationFrequency:picklist JigsawImportLimitOverride:int "
        "LastViewedDate:datetime LastReferencedDate:datetime BannerPhotoUrl:url "
        "SmallBannerPhotoUrl:url MediumBannerPhotoUrl:url IsProfilePhotoActive:boolean "
        "IndividualId:reference "
    ),
    "BusinessProcess": (
        "Id:id Name:string NamespacePrefix:string Description:string TableEnumOrId:picklist "
        "IsActive:boolean CreatedById:reference CreatedDate:datetime LastModifiedById:reference "
        "LastModifiedDate:datetime SystemModstamp:datetime "
    ),
    "RecordType": (
        "Id:id Name:string DeveloperName:string NamespacePrefix:string Description:string "
        "BusinessProcessId:reference SobjectType:picklist IsActive:boolean CreatedById:reference "
        "CreatedDate:datetime LastModifiedById:reference LastModifiedDate:datetime "
        "SystemModstamp:datetime "
    ),
    "OpportunityStage": (
        "Id:id MasterLabel:string ApiName:string IsActive:boolean SortOrder:int IsClosed:boolean "
        "IsWon:boolean ForecastCategory:picklist ForecastCategoryName:picklist "
        "DefaultProbability:percent Description:string CreatedById:reference CreatedDate:datetime "
        "LastModifiedById:reference LastModifiedDate:datetime SystemModstamp:datetime "
    ),
    "Opportunity": (
        "Id:id IsDeleted:boolean AccountId:reference IsPrivate:boolean Name:string "
        "Description:textarea StageName:picklist Amount:currency Probability:percent "
        "ExpectedRevenue:currency TotalOpportunityQuantity:double CloseDate:date Type:picklist "
        "NextStep:string LeadSource:picklist IsClosed:boolean IsWon:boolean "
        "ForecastCategory:picklist ForecastCategoryName:picklist CampaignId:reference "
        "HasOpportunityLineItem:boolean Pricebook2Id:reference OwnerId:reference "
        "CreatedDate:datetime CreatedById:reference LastModifiedDate:datetime "
        "LastModifiedById:reference SystemModstamp:datetime LastActivityDate:date PushCount:int "
        "LastStageChangeDate:datetime FiscalQuarter:int FiscalYear:int Fiscal:string "
        "ContactId:reference LastViewedDate:datetime LastReferencedDate:datetime "
        "HasOpenActivity:boolean HasOverdueTask:boolean LastAmountChangedHistoryId:reference "
        "LastCloseDateChangedHistoryId:reference "
    ),
    "Account": (
        "Id:id IsDeleted:boolean MasterRecordId:reference Name:string Type:picklist "
        "ParentId:reference BillingStreet:textarea BillingCity:string BillingState:string "
        "BillingPostalCode:string BillingCountry:string BillingLatitude:double "
        "BillingLongitude:double BillingGeocodeAccuracy:picklist BillingAddress:address "
        "ShippingStreet:textarea ShippingCity:string ShippingState:string "
        "ShippingPostalCode:string ShippingCountry:string ShippingLatitude:double "
        "ShippingLongitude:double ShippingGeocodeAccuracy:picklist ShippingAddress:address "
        "Phone:phone Fax:phone AccountNumber:string Website:url PhotoUrl:url Sic:string "
        "Industry:picklist AnnualRevenue:currency NumberOfEmployees:int Ownership:picklist "
        "TickerSymbol:string Description:textarea Rating:picklist Site:string OwnerId:reference "
        "CreatedDate:datetime CreatedById:reference LastModifiedDate:datetime "
        "LastModifiedById:reference SystemModstamp:datetime LastActivityDate:date "
        "LastViewedDate:datetime LastReferencedDate:datetime Jigsaw:string JigsawCompanyId:string "
        "CleanStatus:picklist AccountSource:picklist DunsNumber:string Tradestyle:string "
        "NaicsCode:string NaicsDesc:string YearStarted:string SicDesc:string "
        "DandbCompanyId:reference "
    ),
    "Contact": (
        "Id:id IsDeleted:boolean MasterRecordId:reference AccountId:reference LastName:string "
        "FirstName:string Salutation:picklist Name:string OtherStreet:textarea OtherCity:string "
        "OtherState:string OtherPostalCode:string OtherCountry:string OtherLatitude:double "
        "OtherLongitude:double OtherGeocodeAccuracy:picklist OtherAddress:address "
        "MailingStreet:textarea MailingCity:string MailingState:string MailingPostalCode:string "
        "MailingCountry:string MailingLatitude:double MailingLongitude:double "
        "MailingGeocodeAccuracy:picklist MailingAddress:address Phone:phone Fax:phone "
        "MobilePhone:phone HomePhone:phone OtherPhone:phone AssistantPhone:phone "
        "ReportsToId:reference Email:email Title:string Department:string AssistantName:string "
        "LeadSource:picklist Birthdate:date Description:textarea OwnerId:reference "
        "CreatedDate:datetime CreatedById:reference LastModifiedDate:datetime "
        "LastModifiedById:reference SystemModstamp:datetime LastActivityDate:date "
        "LastCURequestDate:datetime LastCUUpdateDate:datetime LastViewedDate:datetime "
        "LastReferencedDate:datetime EmailBouncedReason:string EmailBouncedDate:datetime "
        "IsEmailBounced:boolean PhotoUrl:url Jigsaw:string JigsawContactId:string "
        "CleanStatus:picklist IndividualId:reference IsPriorityRecord:boolean "
        "ContactSource:picklist "
    ),
    "OpportunityContactRole": (
        "Id:id OpportunityId:reference ContactId:reference Role:picklist IsPrimary:boolean "
        "CreatedDate:datetime CreatedById:reference LastModifiedDate:datetime "
        "LastModifiedById:reference SystemModstamp:datetime IsDeleted:boolean "
    ),
    "OpportunityHistory": (
        "Id:id OpportunityId:reference CreatedById:reference CreatedDate:datetime "
        "StageName:picklist Amount:currency ExpectedRevenue:currency CloseDate:date "
        "Probability:percent ForecastCategory:picklist SystemModstamp:datetime IsDeleted:boolean "
        "PrevAmount:currency PrevCloseDate:date "
    ),
    "Lead": (
        "Id:id IsDeleted:boolean MasterRecordId:reference LastName:string FirstName:string "
        "Salutation:picklist Name:string Title:string Company:string Street:textarea City:string "
        "State:string PostalCode:string Country:string Latitude:double Longitude:double "
        "GeocodeAccuracy:picklist Address:address Phone:phone MobilePhone:phone Fax:phone "
        "Email:email Website:url PhotoUrl:url Description:textarea LeadSource:picklist "
        "Status:picklist Industry:picklist Rating:picklist AnnualRevenue:currency "
        "NumberOfEmployees:int OwnerId:reference IsConverted:boolean ConvertedDate:date "
        "ConvertedAccountId:reference ConvertedContactId:reference "
        "ConvertedOpportunityId:reference IsUnreadByOwner:boolean CreatedDate:datetime "
        "CreatedById:reference LastModifiedDate:datetime LastModifiedById:reference "
        "SystemModstamp:datetime LastActivityDate:date LastViewedDate:datetime "
        "LastReferencedDate:datetime Jigsaw:string JigsawContactId:string CleanStatus:picklist "
        "CompanyDunsNumber:string DandbCompanyId:reference EmailBouncedReason:string "
        "EmailBouncedDate:datetime IndividualId:reference IsPriorityRecord:boolean "
    ),
    "LeadHistory": (
        "Id:id IsDeleted:boolean LeadId:reference CreatedById:reference CreatedDate:datetime "
        "Field:picklist DataType:picklist OldValue:anyType NewValue:anyType "
    ),
    "OpportunityFieldHistory": (
        "Id:id IsDeleted:boolean OpportunityId:reference CreatedById:reference "
        "CreatedDate:datetime Field:picklist DataType:picklist OldValue:anyType NewValue:anyType "
    ),
    "Task": (
        "Id:id WhoId:reference WhatId:reference Subject:combobox ActivityDate:date "
        "Status:picklist Priority:picklist IsHighPriority:boolean OwnerId:reference "
        "Description:textarea IsDeleted:boolean AccountId:reference IsClosed:boolean "
        "CreatedDate:datetime CreatedById:reference LastModifiedDate:datetime "
        "LastModifiedById:reference SystemModstamp:datetime IsArchived:boolean "
        "CallDurationInSeconds:int CallType:picklist CallDisposition:string CallObject:string "
        "ReminderDateTime:datetime IsReminderSet:boolean RecurrenceActivityId:reference "
        "IsRecurrence:boolean RecurrenceStartDateOnly:date RecurrenceEndDateOnly:date "
        "RecurrenceTimeZoneSidKey:picklist RecurrenceType:picklist RecurrenceInterval:int "
        "RecurrenceDayOfWeekMask:int RecurrenceDayOfMonth:int RecurrenceInstance:picklist "
        "RecurrenceMonthOfYear:picklist RecurrenceRegeneratedType:picklist TaskSubtype:picklist "
        "CompletedDateTime:datetime "
    ),
    "Event": (
        "Id:id WhoId:reference WhatId:reference Subject:combobox Location:string "
        "IsAllDayEvent:boolean ActivityDateTime:datetime ActivityDate:date DurationInMinutes:int "
        "StartDateTime:datetime EndDateTime:datetime EndDate:date Description:textarea "
        "AccountId:reference OwnerId:reference IsPrivate:boolean ShowAs:picklist "
        "IsDeleted:boolean IsChild:boolean IsGroupEvent:boolean GroupEventType:picklist "
        "CreatedDate:datetime CreatedById:reference LastModifiedDate:datetime "
        "LastModifiedById:reference SystemModstamp:datetime IsArchived:boolean "
        "RecurrenceActivityId:reference IsRecurrence:boolean RecurrenceStartDateTime:datetime "
        "RecurrenceEndDateOnly:date RecurrenceTimeZoneSidKey:picklist RecurrenceType:picklist "
        "RecurrenceInterval:int RecurrenceDayOfWeekMask:int RecurrenceDayOfMonth:int "
        "RecurrenceInstance:picklist RecurrenceMonthOfYear:picklist ReminderDateTime:datetime "
        "IsReminderSet:boolean EventSubtype:picklist IsRecurrence2Exclusion:boolean "
        "Recurrence2PatternText:textarea Recurrence2PatternVersion:picklist IsRecurrence2:boolean "
        "IsRecurrence2Exception:boolean Recurrence2PatternStartDate:datetime "
        "Recurrence2PatternTimeZone:string "
    ),
    "EmailMessage": (
        "Id:id ParentId:reference ActivityId:reference CreatedById:reference CreatedDate:datetime "
        "LastModifiedDate:datetime LastModifiedById:reference SystemModstamp:datetime "
        "TextBody:textarea HtmlBody:textarea Headers:textarea Subject:string Name:string "
        "FromName:string FromAddress:email ValidatedFromAddress:picklist ToAddress:string "
        "CcAddress:string BccAddress:string Incoming:boolean HasAttachment:boolean "
        "Status:picklist MessageDate:datetime IsDeleted:boolean ReplyToEmailMessageId:reference "
        "IsExternallyVisible:boolean MessageIdentifier:string ThreadIdentifier:string "
        "ClientThreadIdentifier:string FromId:reference IsClientManaged:boolean "
        "AttachmentIds:string RelatedToId:reference IsTracked:boolean IsOpened:boolean "
        "FirstOpenedDate:datetime LastOpenedDate:datetime IsBounced:boolean "
        "EmailTemplateId:reference AutomationType:picklist "
    ),
    # Source: ILLUMINATED_CLOUD (names); types per the Object Reference.
    "OpportunityTeamMember": (
        "Id:id IsDeleted:boolean OpportunityId:reference UserId:reference Name:string "
        "PhotoUrl:url Title:string TeamMemberRole:picklist OpportunityAccessLevel:picklist "
        "CreatedDate:datetime CreatedById:reference LastModifiedDate:datetime "
        "LastModifiedById:reference SystemModstamp:datetime ",
    ),
    "AccountTeamMember": (
        "Id:id IsDeleted:boolean AccountId:reference UserId:reference TeamMemberRole:picklist "
        "PhotoUrl:url Title:string AccountAccessLevel:picklist OpportunityAccessLevel:picklist "
        "CaseAccessLevel:picklist ContactAccessLevel:picklist CreatedDate:datetime "
        "CreatedById:reference LastModifiedDate:datetime LastModifiedById:reference "
        "SystemModstamp:datetime ",
    ),
}

REAL_FIELDS: dict[str, dict[str, str]] = {
    name: dict(pair.split(":") for pair in "".join(chunks).split())
    for name, chunks in _RAW.items()
}


def has_is_deleted(sobject: str) -> bool:
    """Whether real Salesforce gives ``sobject`` an IsDeleted field (queryAll can see deletes)."""
    return "IsDeleted" in REAL_FIELDS.get(sobject, {})
