"""Mirrors of Salesforce objects (``SfRecord`` subclasses), one table each.

Each column's ``column_name`` is the Salesforce field's API name, so a record from the API
maps onto a row by name alone (``sf_columns(Model)``) and a reader of the database sees
Salesforce's own names. Values are kept as Salesforce sends them (ISO date/datetime text,
numbers, 0/1). Only sync writes these.
"""

from __future__ import annotations

from peewee import BooleanField, CharField, FloatField, IntegerField, TextField

from smvue_tui.store.model_base import SfRecord, _sf


class Organization(SfRecord):
    name = _sf("Name")
    is_sandbox = _sf("IsSandbox", BooleanField)
    organization_type = _sf("OrganizationType")
    instance_name = _sf("InstanceName")
    fiscal_year_start_month = _sf("FiscalYearStartMonth", IntegerField)


class SfUser(SfRecord):
    name = _sf("Name")
    first_name = _sf("FirstName")
    last_name = _sf("LastName")
    username = _sf("Username")
    email = _sf("Email")
    title = _sf("Title")
    is_active = _sf("IsActive", BooleanField)
    user_type = _sf("UserType")
    manager_id = _sf("ManagerId")
    department = _sf("Department")


class RecordType(SfRecord):
    """An Opportunity record type: one pipeline."""

    name = _sf("Name")
    developer_name = _sf("DeveloperName")
    sobject_type = _sf("SobjectType")
    business_process_id = _sf("BusinessProcessId")
    is_active = _sf("IsActive", BooleanField)
    description = _sf("Description")


class OpportunityStage(SfRecord):
    master_label = _sf("MasterLabel")
    api_name = _sf("ApiName")
    is_active = _sf("IsActive", BooleanField)
    sort_order = _sf("SortOrder", IntegerField)
    is_closed = _sf("IsClosed", BooleanField)
    is_won = _sf("IsWon", BooleanField)
    forecast_category = _sf("ForecastCategory")
    forecast_category_name = _sf("ForecastCategoryName")
    default_probability = _sf("DefaultProbability", FloatField)


class Account(SfRecord):
    name = _sf("Name")
    parent_id = _sf("ParentId", index=True)
    owner_id = _sf("OwnerId")
    type = _sf("Type")
    industry = _sf("Industry")
    annual_revenue = _sf("AnnualRevenue", FloatField)
    number_of_employees = _sf("NumberOfEmployees", IntegerField)
    billing_city = _sf("BillingCity")
    billing_country = _sf("BillingCountry")
    website = _sf("Website")
    currency_iso_code = _sf("CurrencyIsoCode")


class Contact(SfRecord):
    account_id = _sf("AccountId", index=True)
    first_name = _sf("FirstName")
    last_name = _sf("LastName")
    name = _sf("Name")
    email = _sf("Email")
    title = _sf("Title")
    phone = _sf("Phone")
    owner_id = _sf("OwnerId")


class Opportunity(SfRecord):
    name = _sf("Name")
    account_id = _sf("AccountId", index=True)
    record_type_id = _sf("RecordTypeId", index=True)
    stage_name = _sf("StageName", index=True)
    amount = _sf("Amount", FloatField)
    probability = _sf("Probability", FloatField)
    close_date = _sf("CloseDate", index=True)
    type = _sf("Type")
    next_step = _sf("NextStep")
    lead_source = _sf("LeadSource")
    is_closed = _sf("IsClosed", BooleanField, index=True)
    is_won = _sf("IsWon", BooleanField)
    forecast_category = _sf("ForecastCategory")
    forecast_category_name = _sf("ForecastCategoryName")
    owner_id = _sf("OwnerId", index=True)
    created_date = _sf("CreatedDate")
    last_modified_date = _sf("LastModifiedDate")
    last_activity_date = _sf("LastActivityDate")
    currency_iso_code = _sf("CurrencyIsoCode")
    # Mapped custom fields (Settings > CRM Field Mapping), as a JSON object {api name: value}.
    custom_fields = TextField(column_name="_custom_fields", default="{}")


class OpportunityContactRole(SfRecord):
    opportunity_id = _sf("OpportunityId", index=True)
    contact_id = _sf("ContactId", index=True)
    role = _sf("Role")
    is_primary = _sf("IsPrimary", BooleanField)


class Activity(SfRecord):
    """Events, Tasks and EmailMessages in one timeline; ``kind`` says which."""

    kind = CharField(column_name="_kind", max_length=12)  # Event | Task | EmailMessage
    subject = _sf("Subject")
    occurred_at = _sf("_OccurredAt", index=True)  # ActivityDateTime / ActivityDate / MessageDate
    what_id = _sf("WhatId", index=True)  # Opportunity or Account (RelatedToId for emails)
    who_id = _sf("WhoId")
    owner_id = _sf("OwnerId")
    subtype = _sf("TaskSubtype")  # Call, Email, Task… (Tasks only)
    status = _sf("Status")
    is_closed = _sf("IsClosed", BooleanField)
    duration_minutes = _sf("DurationInMinutes", IntegerField)
    incoming = _sf("Incoming", BooleanField)


class Lead(SfRecord):
    name = _sf("Name")
    company = _sf("Company")
    title = _sf("Title")
    email = _sf("Email")
    status = _sf("Status")
    lead_source = _sf("LeadSource")
    owner_id = _sf("OwnerId", index=True)
    is_converted = _sf("IsConverted", BooleanField)
    converted_date = _sf("ConvertedDate")
    converted_opportunity_id = _sf("ConvertedOpportunityId")
    converted_account_id = _sf("ConvertedAccountId")
    created_date = _sf("CreatedDate")


class StageHistory(SfRecord):
    """OpportunityHistory and LeadHistory rows; ``sobject`` says which."""

    sobject = CharField(column_name="_sobject", max_length=20)
    parent_id = _sf("_ParentId", index=True)  # OpportunityId / LeadId
    stage_name = _sf("StageName")
    amount = _sf("Amount", FloatField)
    probability = _sf("Probability", FloatField)
    close_date = _sf("CloseDate")
    field = _sf("Field")
    old_value = _sf("OldValue")
    new_value = _sf("NewValue")
    created_date = _sf("CreatedDate", index=True)
    created_by_id = _sf("CreatedById")


class Collaborator(SfRecord):
    """OpportunityTeamMember and AccountTeamMember rows; ``sobject`` says which."""

    sobject = CharField(column_name="_sobject", max_length=24)
    parent_id = _sf("_ParentId", index=True)  # OpportunityId / AccountId
    user_id = _sf("UserId", index=True)
    role = _sf("TeamMemberRole")



MIRRORS = [Organization, SfUser, RecordType, OpportunityStage, Account, Contact, Opportunity,
           OpportunityContactRole, Activity, Lead, StageHistory, Collaborator]
