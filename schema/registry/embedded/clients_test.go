package embedded

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/sr"
)

// TestSrclient drives the registry with riferrei/srclient, as existing Go producers do.
func TestSrclient(t *testing.T) {
	forEachBackend(t, func(t *testing.T, brokers []string, topic string) {
		_, srv := startRegistry(t, brokers, topic)
		c := srclient.NewSchemaRegistryClient(srv.URL)
		c.CachingEnabled(false)

		s1, err := c.CreateSchema("users-value", userV1, srclient.Avro)
		if err != nil {
			t.Fatalf("CreateSchema v1: %v", err)
		}
		if s1.ID() != 1 || s1.Schema() != userV1N {
			t.Errorf("CreateSchema v1 = id %d schema %s", s1.ID(), s1.Schema())
		}
		s2, err := c.CreateSchema("users-value", userV2, srclient.Avro)
		if err != nil || s2.ID() != 2 {
			t.Fatalf("CreateSchema v2 = %v, %v", s2, err)
		}
		latest, err := c.GetLatestSchema("users-value")
		if err != nil || latest.ID() != 2 || latest.Version() != 2 || latest.Schema() != userV2N {
			t.Errorf("GetLatestSchema = %+v, %v", latest, err)
		}
		byID, err := c.GetSchema(1)
		if err != nil || byID.Schema() != userV1N {
			t.Errorf("GetSchema(1) = %+v, %v", byID, err)
		}
		found, err := c.LookupSchema("users-value", userV1, srclient.Avro)
		if err != nil || found.ID() != 1 || found.Version() != 1 {
			t.Errorf("LookupSchema = %+v, %v", found, err)
		}
		versions, err := c.GetSchemaVersions("users-value")
		if err != nil || !reflect.DeepEqual(versions, []int{1, 2}) {
			t.Errorf("GetSchemaVersions = %v, %v", versions, err)
		}
		subjects, err := c.GetSubjects()
		if err != nil || !reflect.DeepEqual(subjects, []string{"users-value"}) {
			t.Errorf("GetSubjects = %v, %v", subjects, err)
		}
		ok, err := c.IsSchemaCompatible("users-value", userBad, "latest", srclient.Avro)
		if err != nil || ok {
			t.Errorf("IsSchemaCompatible(userBad) = %v, %v; want false", ok, err)
		}
		_, err = c.CreateSchema("users-value", userBad, srclient.Avro)
		var srErr srclient.Error
		if !errors.As(err, &srErr) || srErr.Code != 409 {
			t.Errorf("CreateSchema(userBad) error = %v, want error code 409", err)
		}
		level, err := c.ChangeSubjectCompatibilityLevel("users-value", srclient.Full)
		if err != nil || *level != srclient.Full {
			t.Errorf("ChangeSubjectCompatibilityLevel = %v, %v", level, err)
		}
		level, err = c.GetCompatibilityLevel("users-value", true)
		if err != nil || *level != srclient.Full {
			t.Errorf("GetCompatibilityLevel = %v, %v", level, err)
		}
		global, err := c.GetGlobalCompatibilityLevel()
		if err != nil || *global != srclient.Backward {
			t.Errorf("GetGlobalCompatibilityLevel = %v, %v", global, err)
		}
		if err := c.DeleteSubjectByVersion("users-value", 2, true); err != nil {
			t.Errorf("DeleteSubjectByVersion: %v", err)
		}
		if err := c.DeleteSubject("users-value", true); err != nil {
			t.Errorf("DeleteSubject: %v", err)
		}
		subjects, err = c.GetSubjectsIncludingDeleted()
		if err != nil || len(subjects) != 0 {
			t.Errorf("GetSubjectsIncludingDeleted after hard delete = %v, %v", subjects, err)
		}
	})
}

// TestFranzSR drives the registry with franz-go's sr client.
func TestFranzSR(t *testing.T) {
	forEachBackend(t, func(t *testing.T, brokers []string, topic string) {
		_, srv := startRegistry(t, brokers, topic)
		ctx := context.Background()
		c, err := sr.NewClient(sr.URLs(srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		ss, err := c.CreateSchema(ctx, "orders-value", sr.Schema{Schema: userV1})
		if err != nil {
			t.Fatalf("CreateSchema: %v", err)
		}
		if ss.ID != 1 || ss.Version != 1 || ss.Subject != "orders-value" || ss.Schema.Schema != userV1N {
			t.Errorf("CreateSchema = %+v", ss)
		}
		id, err := c.RegisterSchema(ctx, "orders-value", sr.Schema{Schema: userV2}, -1, -1)
		if err != nil || id != 2 {
			t.Errorf("RegisterSchema = %d, %v", id, err)
		}
		got, err := c.SchemaByVersion(ctx, "orders-value", -1)
		if err != nil || got.ID != 2 || got.Version != 2 || got.Schema.Schema != userV2N || got.Type != sr.TypeAvro {
			t.Errorf("SchemaByVersion(latest) = %+v, %v", got, err)
		}
		text, err := c.SchemaTextByID(ctx, 1)
		if err != nil || text != userV1N {
			t.Errorf("SchemaTextByID = %q, %v", text, err)
		}
		byID, err := c.SchemaByID(ctx, 2)
		if err != nil || byID.Schema != userV2N {
			t.Errorf("SchemaByID = %+v, %v", byID, err)
		}
		svs, err := c.SchemaVersionsByID(ctx, 1)
		if err != nil || !reflect.DeepEqual(svs, []sr.SubjectVersion{{Subject: "orders-value", Version: 1}}) {
			t.Errorf("SchemaVersionsByID = %+v, %v", svs, err)
		}
		subs, err := c.SubjectsByID(ctx, 2)
		if err != nil || !reflect.DeepEqual(subs, []string{"orders-value"}) {
			t.Errorf("SubjectsByID = %v, %v", subs, err)
		}
		found, err := c.LookupSchema(ctx, "orders-value", sr.Schema{Schema: userV1})
		if err != nil || found.ID != 1 || found.Version != 1 {
			t.Errorf("LookupSchema = %+v, %v", found, err)
		}
		compat, err := c.CheckCompatibility(ctx, "orders-value", -1, sr.Schema{Schema: userBad})
		if err != nil || compat.Is {
			t.Errorf("CheckCompatibility = %+v, %v", compat, err)
		}
		_, err = c.CreateSchema(ctx, "orders-value", sr.Schema{Schema: userBad})
		var re *sr.ResponseError
		if !errors.As(err, &re) || re.StatusCode != 409 || re.ErrorCode != 409 {
			t.Errorf("CreateSchema(userBad) error = %v, want HTTP 409", err)
		}
		res := c.SetCompatibility(ctx, sr.SetCompatibility{Level: sr.CompatFull}, "orders-value")
		if len(res) != 1 || res[0].Err != nil || res[0].Level != sr.CompatFull {
			t.Errorf("SetCompatibility = %+v", res)
		}
		res = c.Compatibility(ctx, "orders-value")
		if len(res) != 1 || res[0].Err != nil || res[0].Level != sr.CompatFull {
			t.Errorf("Compatibility = %+v", res)
		}
		types, err := c.SupportedTypes(ctx)
		if err != nil || !reflect.DeepEqual(types, []sr.SchemaType{sr.TypeAvro}) {
			t.Errorf("SupportedTypes = %v, %v", types, err)
		}
		deleted, err := c.DeleteSubject(ctx, "orders-value", sr.SoftDelete)
		if err != nil || !reflect.DeepEqual(deleted, []int{1, 2}) {
			t.Errorf("DeleteSubject = %v, %v", deleted, err)
		}
		deleted, err = c.DeleteSubject(ctx, "orders-value", sr.HardDelete)
		if err != nil || !reflect.DeepEqual(deleted, []int{1, 2}) {
			t.Errorf("DeleteSubject(hard) = %v, %v", deleted, err)
		}
		subjects, err := c.Subjects(ctx)
		if err != nil || len(subjects) != 0 {
			t.Errorf("Subjects = %v, %v", subjects, err)
		}
	})
}
